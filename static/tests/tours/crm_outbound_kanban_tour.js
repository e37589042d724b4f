/** @odoo-module **/
import { registry } from "@web/core/registry";

// The Outbound kanban: every status of the playbook is a column; dragging a card
// to another column sets the lead's status (tests/test_outbound_ui.py checks the rest).
registry.category("web_tour.tours").add("crm_outbound_kanban_tour", {
    url: "/odoo/action-crm_outbound.crm_lead_action_outbound",
    steps: () => [
        {
            content: "The empty statuses show as columns too",
            trigger: ".o_kanban_group .o_column_title:contains('Refused')",
        },
        {
            content: "Move the lead from its column to Interested",
            trigger: ".o_kanban_group:has(.o_column_title:contains('No answer')) .o_kanban_record:contains('Tour kanban lead')",
            run: "drag_and_drop(.o_kanban_group:has(.o_column_title:contains('Interested')))",
        },
        {
            content: "The card is in the Interested column",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Interested')) .o_kanban_record:contains('Tour kanban lead')",
        },
    ],
});
