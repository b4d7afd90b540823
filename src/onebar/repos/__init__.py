"""Repositories the service owns, and their materialised reports.

registry.add_repo / list_repos / fetch      a local path, or a URL mirrored into the data folder
materialised.refresh / for_window           reports computed once, stored, served many times
"""
