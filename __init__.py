from . import controllers
from . import models
from . import wizard


def post_init_hook(env):
    """Give the leads that exist at install their segment."""
    env["crm.lead"]._outbound_init_segments()
