"""Every table of every domain, registered on ``Base.metadata`` (for Alembic and test set-up)."""

from sangsaeng.assessments import models as assessment_models  # noqa: F401
from sangsaeng.core import models as core_models  # noqa: F401
from sangsaeng.core.audit import models as audit_models  # noqa: F401
from sangsaeng.core.files import models as files_models  # noqa: F401
from sangsaeng.core.imports import models as import_models  # noqa: F401
from sangsaeng.core.jobs import models as jobs_models  # noqa: F401
from sangsaeng.core.notifications import models as notification_models  # noqa: F401
from sangsaeng.factory import models as factory_models  # noqa: F401
from sangsaeng.impact import models as impact_models  # noqa: F401
from sangsaeng.ledger import models as ledger_models  # noqa: F401
from sangsaeng.outcomes import models as outcome_models  # noqa: F401
from sangsaeng.programs import models as program_models  # noqa: F401
