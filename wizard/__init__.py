from . import crm_lead_log_call
