from . import test_smoke
from . import test_outbound_log_call
from . import test_outbound_task_rule
from . import test_outbound_crons
from . import test_outbound_catalog
from . import test_outbound_lead_status
from . import test_outbound_ui
from . import test_outbound_discipline
