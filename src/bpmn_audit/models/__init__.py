"""SQLAlchemy tables. ``db`` is the Flask-SQLAlchemy extension every model hangs off."""

from .agency import Agency
from .agency_audit import AgencyReturn, CaseFinding
from .api_token import ApiToken
from .base import db
from .case import AuditRetention, Case, CaseAccess
from .concern import Concern
from .deployment import Deployment, DeploymentFile, ProcessDraft, ProcessSpec
from .history import HistoryEvent
from .identity import User
from .incident import Incident
from .instance import ProcessInstance
from .notification import Notification
from .outbox import OutboxMessage
from .task import HumanTask, TaskCandidate
from .timer import TimerJob
from .tracker import TrackerAction
from .worker import WorkerHeartbeat

__all__ = ["db", "Deployment", "DeploymentFile", "ProcessSpec", "HistoryEvent", "Incident", "User", "ProcessInstance",
           "HumanTask", "TimerJob", "TrackerAction", "Case", "CaseAccess", "AuditRetention", "Concern", "Notification",
           "AgencyReturn", "CaseFinding", "TaskCandidate",
           "ApiToken", "Agency", "OutboxMessage", "WorkerHeartbeat", "ProcessDraft"]
