from . import crm_outbound_call_report
