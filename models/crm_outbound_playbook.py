from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# Counts and durations of a playbook, where 0 is the smallest sensible value.
NON_NEGATIVE_FIELDS = ("touch_threshold", "overdue_grace", "attempts_per_day", "first_days", "min_attempts_before_lost")


class CrmOutboundPlaybook(models.Model):
    """The complete calling method of a sales team: its status catalog, comment codes,
    redial cadence and calling rules."""

    _name = "crm.outbound.playbook"
    _description = "Outbound Playbook"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to share the playbook between companies.")
    description = fields.Text(translate=True)
    script = fields.Html(
        translate=True,
        help="The call script operators read in the calling session (seed 001: a script for each kind of client).",
    )
    # Catalog
    status_ids = fields.One2many("crm.outbound.status", "playbook_id", string="Statuses")
    comment_code_ids = fields.One2many("crm.outbound.comment.code", "playbook_id", string="Comment Codes")
    cadence_step_ids = fields.One2many("crm.outbound.cadence.step", "playbook_id", string="Redial Cadence")
    team_ids = fields.One2many("crm.team", "outbound_playbook_id", string="Sales Teams")
    status_count = fields.Integer(compute="_compute_counts")
    team_count = fields.Integer(compute="_compute_counts")
    # Calling rules
    touch_threshold = fields.Integer(
        "Successful Touch Threshold (s)",
        default=30,
        tracking=True,
        help="A call that lasts longer than this many seconds is a successful touch.",
    )
    overdue_grace = fields.Integer(
        "Overdue Grace (hours)",
        default=2,
        tracking=True,
        help="A redial still not made this many hours after it was due is reported to the team leader.",
    )
    exhausted_status_id = fields.Many2one(
        "crm.outbound.status",
        string="Status When Cadence Is Exhausted",
        domain="[('playbook_id', '=', id)]",
        tracking=True,
        help="Set on a lead whose call after the last cadence step goes unanswered too.",
    )
    exhausted_lost_reason_id = fields.Many2one(
        "crm.lost.reason",
        string="Lost Reason When Cadence Is Exhausted",
        tracking=True,
    )
    # Calling discipline (DESIGN.md rule 3, seed 002)
    attempts_per_day = fields.Integer(
        "Attempts per Day",
        default=3,
        tracking=True,
        help="During a lead's first days, the calls it must get each day, counted in the team's time zone.",
    )
    first_days = fields.Integer(
        default=5,
        tracking=True,
        help="How many days, from the lead's creation or assignment, the daily attempts target applies.",
    )
    min_attempts_before_lost = fields.Integer(
        "Minimum Attempts Before Lost",
        default=15,
        tracking=True,
        help="A lead with fewer call attempts may not be marked lost, except through an exempt status "
        "or a supervisor's override. 0 disables the gate.",
    )
    lost_gate_mode = fields.Selection(
        [("block", "Block Operators"), ("flag", "Only Flag")],
        string="Lost Gate",
        required=True,
        default="block",
        tracking=True,
        help="Block: operators cannot mark such a lead lost; supervisors override with a reason. "
        "Only flag: the lead is marked lost, and flagged as lost improperly for the supervisors.",
    )
    network_status_id = fields.Many2one(
        "crm.outbound.status",
        string="Network Sibling Status",
        domain="[('playbook_id', '=', id)]",
        help="Set on the other organisations of a network once one of them reaches a result.",
    )

    @api.depends("status_ids", "team_ids")
    def _compute_counts(self):
        for playbook in self:
            playbook.status_count = len(playbook.status_ids)
            playbook.team_count = len(playbook.team_ids)

    @api.constrains(*NON_NEGATIVE_FIELDS)
    def _check_non_negative(self):
        for playbook in self:
            for fname in NON_NEGATIVE_FIELDS:
                if playbook[fname] < 0:
                    raise ValidationError(
                        _(
                            "Playbook %(playbook)s: %(setting)s cannot be negative (%(value)s); enter 0 or more "
                            "(0 turns a calling discipline rule off).",
                            playbook=playbook.display_name,
                            setting=self._fields[fname]._description_string(self.env),
                            value=playbook[fname],
                        )
                    )

    @api.constrains("exhausted_status_id", "network_status_id")
    def _check_own_statuses(self):
        for playbook in self:
            for status in playbook.exhausted_status_id | playbook.network_status_id:
                status._check_in_playbook(playbook)
