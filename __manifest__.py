{
    "name": "CRM Outbound Calling",
    "summary": "Playbooks for outbound calling teams: call outcomes, one next task per lead, "
    "redial cadence and calling discipline",
    "version": "1.0.0",
    "category": "Sales/CRM",
    "author": "crm_outbound",
    "license": "LGPL-3",
    "depends": ["crm"],
    "data": [
        "security/crm_outbound_security.xml",
        "security/ir.model.access.csv",
        "data/mail_activity_type_data.xml",
        "data/crm_lost_reason_data.xml",
        "data/crm_outbound_playbook_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_config_parameter_data.xml",
        "views/crm_outbound_playbook_views.xml",
        "views/crm_outbound_status_views.xml",
        "views/crm_outbound_comment_code_views.xml",
        "views/crm_team_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_outbound_call_views.xml",
        "wizard/crm_lead_log_call_views.xml",
        "wizard/crm_outbound_call_attach_views.xml",
        "wizard/crm_lead_network_mark_views.xml",
        "views/crm_lead_network_views.xml",
        "views/crm_outbound_menus.xml",
        "views/crm_outbound_call_unmatched_views.xml",
    ],
    "demo": [
        "demo/crm_outbound_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_outbound/static/src/**/*",
        ],
        "web.assets_tests": [
            "crm_outbound/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": False,
}
