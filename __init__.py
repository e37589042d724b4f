from . import controllers
from . import models
from . import report  # after the models: its SQL view reads columns they add to crm_lead
from . import wizard


def post_init_hook(env):
    """Give the leads that exist at install their segment."""
    env["crm.lead"]._outbound_init_segments()
