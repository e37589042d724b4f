/** @odoo-module **/
import { registry } from "@web/core/registry";

// The supervisor's screens (Outbound Control): each opens without an error, and the
// KPI report's graph and pivot stand every call, dated at the edge of the allowed range
// or far outside it, once the period filter is removed.
const noError = {
    content: "No error dialog",
    trigger: "body:not(:has(.o_error_dialog, .o_dialog_error))",
};

registry.category("web_tour.tours").add("crm_outbound_supervisor_screen_tour", {
    steps: () => [
        {
            content: "The screen is there: a list, or a graph drawn",
            trigger: ".o_list_renderer, .o_graph_renderer canvas, .o_view_nocontent",
        },
        noError,
    ],
});

function reportTour(first, second) {
    const shown = { graph: ".o_graph_renderer canvas", pivot: ".o_pivot table" };
    return {
        steps: () => [
            { content: `The ${first} is drawn`, trigger: shown[first] },
            {
                content: "Every call: remove the period",
                trigger: ".o_searchview_facet",
                run: "hover && click .o_searchview_facet .o_facet_remove",
            },
            {
                content: "The period is gone",
                trigger: ".o_searchview:not(:has(.o_searchview_facet))",
            },
            { content: `The ${first} of every call`, trigger: shown[first] },
            noError,
            { content: `Switch to the ${second}`, trigger: `.o_switch_view.o_${second}`, run: "click" },
            { content: `The ${second} of every call`, trigger: `.o_switch_view.o_${second}.active` },
            { trigger: shown[second] },
            noError,
        ],
    };
}

registry.category("web_tour.tours").add("crm_outbound_kpi_pivot_tour", reportTour("pivot", "graph"));
registry.category("web_tour.tours").add("crm_outbound_kpi_graph_tour", reportTour("graph", "pivot"));
