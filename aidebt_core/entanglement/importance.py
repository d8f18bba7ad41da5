"""Feature importances a model run logged to MLflow (`feature_importances.json`), if any.

Among the registered models' versions with the given alias (default `production`), the run
whose logged importances cover most of the analysed features is used. Negative permutation
importances (noise) count as zero; features the model does not use get zero importance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aidebt_core.entanglement.ripple import Importance
from aidebt_core.errors import TrackingError

IMPORTANCE_FILE = "feature_importances.json"


def logged_importance(tracking_uri: str, features: Sequence[str], alias: str = "production",
                      file: str = IMPORTANCE_FILE) -> Importance | None:
    """The best-matching logged importances, or None when no aliased run logged any.

    Raises `TrackingError` when the store cannot be opened or read.
    """
    from mlflow.exceptions import MlflowException

    from aidebt_core.runs.client import open_store

    store = open_store(tracking_uri)
    wanted = set(features)
    best = None
    for model in store.registered_models():
        version = (model.aliases or {}).get(alias)
        if version is None:
            continue
        try:
            model_version = store.client.get_model_version(model.name, str(version))
        except MlflowException as exc:
            raise TrackingError(f"Cannot read {model.name} v{version} from {tracking_uri}: "
                                f"{exc.message}") from None
        if not model_version.run_id:
            continue
        run = store.get_run(model_version.run_id)
        text = store.read_run_text(run, file)
        if not text:
            continue
        try:
            raw = json.loads(text)
            values = {str(k): max(0.0, float(v)) for k, v in raw.items()}
        except (ValueError, TypeError, AttributeError):
            raise TrackingError(f"{file} of run '{run.info.run_name}' is not a JSON object "
                                "of feature -> number.") from None
        overlap = len(wanted & set(values))
        if overlap and (best is None or overlap > best[0]):
            source = (f"feature importances logged with run '{run.info.run_name}' "
                      f"({model.name} v{version}, alias '{alias}')")
            best = (overlap, Importance({f: values.get(f, 0.0) for f in features}, source))
    return None if best is None else best[1]
