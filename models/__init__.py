from . import compat
from . import crm_outbound_delay_mixin
from . import crm_outbound_playbook
from . import crm_outbound_status
from . import crm_outbound_comment_code
from . import crm_outbound_cadence_step
from . import crm_outbound_call
from . import crm_team
from . import crm_team_member
from . import crm_outbound_local_time_mixin
from . import crm_outbound_do_not_call_mixin
from . import crm_outbound_session_mixin
from . import crm_lead
from . import crm_outbound_segment
from . import mail_activity
from . import mail_activity_type

# Last: its SQL view reads columns the models above add to crm_lead.
from . import crm_outbound_call_report
