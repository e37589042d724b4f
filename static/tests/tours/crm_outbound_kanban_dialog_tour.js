/** @odoo-module **/
import { registry } from "@web/core/registry";

// Dragging a card to a status that asks for a comment or closes the lead opens the Log
// call dialog with that status; cancel leaves the card in its column.
registry.category("web_tour.tours").add("crm_outbound_kanban_dialog_tour", {
    url: "/odoo/action-crm_outbound.crm_lead_action_outbound",
    steps: () => [
        {
            content: "Drag another lead to Refused, which closes it and needs a comment",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('No answer')) .o_kanban_record:contains('Tour refused lead')",
            run: "drag_and_drop(.o_kanban_group:has(.o_column_title:contains('Refused')))",
        },
        {
            trigger: ".modal .o_field_widget[name=note] textarea",
            run: "edit Too expensive",
        },
        {
            trigger: ".modal button[name=action_log_call]",
            run: "click",
        },
        {
            content: "The lost lead left the board",
            trigger: "body:not(:has(.modal)) .o_kanban_renderer:not(:has(.o_kanban_record:contains('Tour refused lead')))",
        },
        {
            content: "Drag the lead to Call back, which waits for a date",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('No answer')) .o_kanban_record:contains('Tour dialog lead')",
            run: "drag_and_drop(.o_kanban_group:has(.o_column_title:contains('Call back')))",
        },
        {
            content: "The Log call dialog opens with that status and shows the lead",
            trigger: ".modal .o_field_widget[name=status_id] input:value('Call back')",
        },
        {
            trigger: ".modal .o_crm_outbound_lead_summary:contains('Tour dialog lead')",
        },
        {
            content: "Cancel",
            trigger: ".modal .modal-footer button:contains('Cancel')",
            run: "click",
        },
        {
            content: "The card stayed where it was",
            trigger:
                "body:not(:has(.modal)) .o_kanban_group:has(.o_column_title:contains('No answer')) .o_kanban_record:contains('Tour dialog lead')",
        },
    ],
});
