"""Deployments (Camunda's RepositoryService): validate models (errors and style warnings, each at its element)
and store them as immutable versions with who deployed them and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..engine.errors import ModelProblem, ModelValidationError, UnsafeXMLError
from ..engine.limits import EngineLimits
from ..engine.model_warnings import style_warnings
from ..engine.parser import read_documents
from ..engine.safe_xml import MalformedXMLError
from ..engine.serializer import LIBRARY_VERSION, SERIALIZER_VERSION, dump_spec
from ..engine.task_forms import catalogue
from ..engine.validation import validate_models
from ..models import Deployment, DeploymentFile, ProcessInstance, ProcessSpec, db
from ..models.instance import RUNNING
from .errors import NotFound
from .identity import GROUPS
from .transaction import transaction

#: the most files one deployment or validation takes (a process and its decision tables)
MAX_FILES = 20
MAX_NOTE = 2000


@dataclass
class Validation:
    """What the deploy checks found: errors (it cannot be deployed) and warnings (style), each at its element."""

    errors: list[ModelProblem]
    warnings: list[ModelProblem]

    @property
    def ok(self) -> bool:
        """True if it can be deployed."""
        return not self.errors


def validate(files: list[tuple[str, bytes]]) -> Validation:
    """Run every deploy check on ``files`` and the style checks, without deploying; never raises for a bad model."""
    try:
        check_files(files)
        validate_models(files, dict(current_app.config["LANE_GROUPS"]), GROUPS,
                        limits=EngineLimits.from_settings(current_app.config))
        errors = []
    except (ModelValidationError, UnsafeXMLError, MalformedXMLError) as error:
        errors = problems_of(error)
    try:
        warnings = style_warnings(read_documents(files))
    except (UnsafeXMLError, MalformedXMLError):
        warnings = []
    return Validation(errors, warnings)


def problems_of(error: ModelValidationError | UnsafeXMLError | MalformedXMLError) -> list[ModelProblem]:
    """A refused model's problems, each at its element (or file and line)."""
    if isinstance(error, ModelValidationError):
        return list(error.problems)
    return [ModelProblem(str(error), file_name=getattr(error, "file_name", None), line=getattr(error, "line", None))]


def check_files(files: list[tuple[str, bytes]]) -> None:
    """Raise ModelValidationError unless ``files`` are 1 to MAX_FILES .bpmn and .dmn files."""
    if not files or len(files) > MAX_FILES:
        raise ModelValidationError([ModelProblem(f"send from 1 to {MAX_FILES} .bpmn and .dmn files")])
    wrong = [name for name, _ in files if not str(name).lower().endswith((".bpmn", ".dmn")) or len(name) > 200]
    if wrong:
        raise ModelValidationError([ModelProblem("only .bpmn and .dmn files (names up to 200 characters) can be "
                                                 "deployed", file_name=str(wrong[0])[:200])])


def deploy(files: list[tuple[str, bytes]], deployed_by: str | None = None, note: str | None = None) -> list[Deployment]:
    """Validate BPMN/DMN files and deploy each executable process in them as its next version.

    The lane-to-group routing in force (``LANE_GROUPS``) is stored with each version. A process whose
    spec and routing are unchanged since its latest version is not deployed again; that version is
    returned instead, with ``unchanged`` set on it. Raises the engine's UnsafeXMLError,
    MalformedXMLError or ModelValidationError (each naming the file or element and what is wrong)
    and stores nothing then.
    Needs: process_owner (checked by the caller's route).
    """
    note = (note or "").strip()[:MAX_NOTE] or None
    check_files(files)
    lane_groups = dict(current_app.config["LANE_GROUPS"])
    models = validate_models(files, lane_groups, GROUPS, limits=EngineLimits.from_settings(current_app.config))
    deployments = []
    with transaction():
        for process_id, (spec, subprocess_specs) in models.processes.items():
            spec_hash, blob = dump_spec(spec, subprocess_specs)
            latest = latest_deployment(process_id, required=False)
            if latest is not None and latest.spec_hash == spec_hash and latest.lane_groups == lane_groups:
                latest.unchanged = True
                deployments.append(latest)
                continue
            if db.session.get(ProcessSpec, spec_hash) is None:
                db.session.add(ProcessSpec(hash=spec_hash, blob=blob, serializer_version=SERIALIZER_VERSION,
                                           library_version=LIBRARY_VERSION))
            deployment = Deployment(process_key=process_id, version=(latest.version + 1) if latest else 1,
                                    name=spec.description or process_id, spec_hash=spec_hash,
                                    deployed_by=deployed_by, note=note, lane_groups=lane_groups,
                                    forms=catalogue(spec, subprocess_specs),
                                    files=[DeploymentFile(file_name=name, content=content) for name, content in files])
            deployment.unchanged = False
            db.session.add(deployment)
            deployments.append(deployment)
    return deployments


def deploy_directory(directory: str | Path, deployed_by: str | None = None) -> list[Deployment]:
    """Deploy every .bpmn and .dmn file of a folder together (the shipped ``processes/``)."""
    paths = sorted(p for p in Path(directory).iterdir() if p.suffix in (".bpmn", ".dmn"))
    return deploy([(path.name, path.read_bytes()) for path in paths], deployed_by)


def latest_deployment(process_key: str, required: bool = True) -> Deployment | None:
    """The newest version of a process; raises NotFound if there is none and ``required``."""
    deployment = db.session.scalars(select(Deployment).where(Deployment.process_key == process_key)
                                    .order_by(Deployment.version.desc()).limit(1)).first()
    if deployment is None and required:
        raise NotFound(f"no process '{process_key}' has been deployed")
    return deployment


def list_deployments() -> list[Deployment]:
    """Every deployment, newest first."""
    return list(db.session.scalars(select(Deployment).order_by(Deployment.deployed_at.desc(), Deployment.id.desc())))


def running_counts() -> dict[int, int]:
    """Deployment id -> how many audits run on that version."""
    rows = db.session.execute(select(ProcessInstance.deployment_id, func.count()).where(
        ProcessInstance.status == RUNNING).group_by(ProcessInstance.deployment_id))
    return {deployment_id: count for deployment_id, count in rows}


def get_file(deployment_id: int, file_id: int) -> DeploymentFile:
    """One file of a deployment (a .bpmn or .dmn, as deployed); raises NotFound."""
    found = db.session.get(DeploymentFile, file_id)
    if found is None or found.deployment_id != deployment_id:
        raise NotFound(f"there is no file {file_id} in deployment {deployment_id}")
    return found
