from . import crm_lead_log_call
from . import crm_outbound_call_attach
from . import crm_lead_lost_override
from . import crm_lead_network_mark
from . import crm_lead_route
