/** @odoo-module **/
import { registry } from "@web/core/registry";

// The calling session, as an operator works it (tests/test_outbound_session_ui.py sets
// up four due leads and checks the records afterwards). Each lead counts its actions.
registry.category("web_tour.tours").add("crm_outbound_session_tour", {
    url: "/odoo/action-crm_outbound.crm_outbound_session_action",
    steps: () => [
        // No answer: 1 key.
        {
            content: "The oldest due lead comes first",
            trigger: ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead A'))",
            run: "press 1",
        },
        // Callback with a comment code and a quick-pick date: 4 actions.
        {
            content: "Logged: the next lead comes by itself; key 2 is Call back",
            trigger: ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead B'))",
            run: "press 2",
        },
        {
            content: "The status's comment codes show as chips",
            trigger: ".o_crm_outbound_code:contains('Busy')",
            run: "click",
        },
        {
            content: "Tomorrow 10:00, in the client's local time",
            trigger: ".o_crm_outbound_pick[data-pick=tomorrow]",
            run: "click",
        },
        {
            content: "The next call's time is previewed before logging",
            trigger: ".o_crm_outbound_preview b:not(:empty)",
            run: "press Enter",
        },
        // A result: 2 keys.
        {
            trigger: ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead C'))",
            run: "press 3",
        },
        {
            trigger: ".o_crm_outbound_status_button.btn-primary:contains('Interested')",
            run: "press Enter",
        },
        // Skip, with a reason.
        {
            trigger: ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead D'))",
            run: "click .o_crm_outbound_skip",
        },
        {
            trigger: ".o_crm_outbound_skip_reason",
            run: "edit Client is driving",
        },
        {
            trigger: ".o_crm_outbound_skip",
            run: "click",
        },
        {
            content: "Nobody left to call",
            trigger: ".o_crm_outbound_empty",
        },
    ],
});
