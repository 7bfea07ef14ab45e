"""Former home of the web face's tables, kept so that older imports still work.

Users are in :mod:`gosplan.storage.users`, decisions in :mod:`gosplan.storage.decisions`.
"""

from gosplan.storage.decisions import Ballot, Comment, Proposal
from gosplan.storage.users import ROLES, User, utcnow

__all__ = ["ROLES", "Ballot", "Comment", "Proposal", "User", "utcnow"]
