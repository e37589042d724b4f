/** @odoo-module **/
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { KanbanRenderer } from "@web/views/kanban/kanban_renderer";

// The Outbound kanban (DESIGN.md rule 8): dropping a card on a status that needs a date
// or a comment, or that closes the lead, opens the Log call dialog with that status
// instead of setting it; cancelling the dialog leaves the card where it was.
export class OutboundKanbanRenderer extends KanbanRenderer {
    setup() {
        super.setup();
        this.orm = useService("orm");
        this.action = useService("action");
    }

    async sortRecordDrop(dataRecordId, dataGroupId, params) {
        const list = this.props.list;
        const group = list.isGrouped && list.groups.find((g) => g.id === params.parent?.dataset.id);
        const record = list.records.find((r) => r.id === dataRecordId);
        if (
            !group ||
            !record ||
            group.id === dataGroupId ||
            group.groupByField.name !== "outbound_status_id" ||
            !group.value
        ) {
            return super.sortRecordDrop(...arguments);
        }
        const [status] = await this.orm.read(
            "crm.outbound.status",
            [group.value],
            ["task_timing", "comment_required", "lead_action", "is_final"]
        );
        const asksForInput =
            status.task_timing === "agreed" ||
            status.comment_required ||
            status.lead_action !== "none" ||
            status.is_final;
        if (!asksForInput) {
            return super.sortRecordDrop(...arguments);
        }
        params.parent?.classList.remove("o_kanban_hover");
        const action = await this.orm.call("crm.lead", "action_outbound_log_call", [[record.resId]]);
        action.context = { ...action.context, default_status_id: status.id };
        action.views = [[false, "form"]];
        await this.action.doAction(action, {
            onClose: () => list.model.load(),
        });
    }
}

export const outboundKanbanView = {
    ...kanbanView,
    Renderer: OutboundKanbanRenderer,
};

registry.category("views").add("crm_outbound_kanban", outboundKanbanView);
