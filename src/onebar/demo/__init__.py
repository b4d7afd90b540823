"""`onebar demo`: a sample repository that tells a story, built with one `git fast-import` stream.

An internal team near elite, a vendor shipping big, rarely reviewed, failing batches, a contractor
who alone knows a component and leaves soon, an agency whose contract ended, AI agents whose
changes humans review, and bots; a deploy train, hotfix releases, pre-releases, reverts and
`Fixes:` trailers naming real shas (docs/demo.md).
"""

from onebar.demo.build import DemoSummary, build_demo

__all__ = ["DemoSummary", "build_demo"]
