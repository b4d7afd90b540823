"""Pure metrics over plain data: DORA keys, review across organisations, knowledge risk, overlap.

Nothing here reads git, the store or the clock; the report package loads the data and calls these.
"""
