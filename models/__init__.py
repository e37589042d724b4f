from . import compat
from . import crm_outbound_delay_mixin
from . import crm_outbound_playbook
from . import crm_outbound_status
from . import crm_outbound_comment_code
from . import crm_outbound_cadence_step
from . import crm_team
from . import crm_lead
