/** @odoo-module **/
import { registry } from "@web/core/registry";

// The operator's main path: open Call now, log an unanswered call from the list, and
// see the lead's next redial time and no-answer count (Н1) update.
registry.category("web_tour.tours").add("crm_outbound_call_now_tour", {
    url: "/odoo/action-crm_outbound.crm_lead_action_call_now",
    steps: () => [
        {
            content: "The lead due now is in the queue",
            trigger: ".o_data_row:contains('Tour due lead') .o_crm_outbound_log_call",
            run: "click",
        },
        {
            content: "Choose the status",
            trigger: ".modal .o_field_widget[name=status_id] input",
            run: "edit No answer",
        },
        {
            trigger: ".o-autocomplete--dropdown-item .dropdown-item:contains('No answer')",
            run: "click",
        },
        {
            content: "Log the call",
            trigger: ".modal button[name=action_log_call]",
            run: "click",
        },
        {
            content: "The lead is no longer due: it left the queue",
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains('Tour due lead')))",
        },
        {
            content: "Show every lead, not only the due ones",
            trigger: ".o_searchview_facet:contains('Callable Now')",
            run: "hover && click .o_searchview_facet:contains('Callable Now') .o_facet_remove",
        },
        {
            content: "The lead shows its first unanswered call and its next redial time",
            trigger: ".o_data_row:contains('Tour due lead'):contains('N1') td[name=outbound_next_call_at]:not(:empty)",
        },
    ],
});
