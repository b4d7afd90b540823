"""`onebar demo`: a realistic sample repository built with one `git fast-import` stream.

An internal organisation, two partners and a contractor agency in other time zones, an individual
contractor whose contract ended, AI agents and bots; feature branches merged with review trailers,
weekly release tags, hotfix releases, pre-releases, reverts and `Fixes:` trailers naming real shas.
"""

from onebar.demo.build import DemoSummary, build_demo

__all__ = ["DemoSummary", "build_demo"]
