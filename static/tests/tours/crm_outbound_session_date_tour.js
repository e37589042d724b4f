/** @odoo-module **/
import { registry } from "@web/core/registry";

// Results with a date in the calling session, each lead counting its actions
// (tests/test_outbound_session_ui.py sets up two due leads, a "Meeting booked" result
// that asks for a date and a script for decision makers, and checks the records).
registry.category("web_tour.tours").add("crm_outbound_session_date_tour", {
    url: "/odoo/action-crm_outbound.crm_outbound_session_action",
    steps: () => [
        // A result with a quick-pick date: 3 actions.
        {
            content: "The playbook's script until the screen knows who is on the line",
            trigger:
                ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead E')) .o_crm_outbound_script_body:contains('General script')",
            run: "press 5",
        },
        {
            content: "Meeting booked is a decision maker's status: their script shows; Monday 10:00",
            trigger: ".o_crm_outbound_script_body:contains('Ask for the budget')",
            run: "click .o_crm_outbound_pick[data-pick=monday]",
        },
        {
            trigger: ".o_crm_outbound_pick.btn-info[data-pick=monday]",
        },
        {
            content: "The next call's time is previewed before logging",
            trigger: ".o_crm_outbound_preview b:not(:empty)",
            run: "press Enter",
        },
        // A result with a day from the picker: 5 actions; a bare day (18.0's picker) is called at 10:00,
        // 19.0's picker gives the current hour.
        {
            trigger: ".o_crm_outbound_card:has(.o_crm_outbound_lead_name:contains('Session lead F'))",
            run: "press 5",
        },
        {
            content: "The date box says it is required",
            trigger: ".o_crm_outbound_agreed_missing",
            run: "click .o_crm_outbound_agreed_input input",
        },
        {
            trigger: ".o_datetime_picker .o_next",
            run: "click",
        },
        {
            content: "The 15th of next month",
            trigger: ".o_datetime_picker .o_date_item_cell:not(.o_out_of_range):contains('15')",
            run: "click",
        },
        {
            content: "The day is taken (never at midnight: the test checks the lead); the picker keeps the keyboard, so Log & Next is clicked",
            trigger: ".o_crm_outbound_card:not(:has(.o_crm_outbound_agreed_missing)) .o_crm_outbound_preview b:not(:empty)",
            run: "click .o_crm_outbound_log",
        },
        {
            content: "Nobody left to call",
            trigger: ".o_crm_outbound_empty",
        },
    ],
});
