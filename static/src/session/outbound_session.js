/** @odoo-module **/
import { Component, markup, onWillStart, useExternalListener, useState } from "@odoo/owl";
import { DateTimeInput } from "@web/core/datetime/datetime_input";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime, serializeDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const { DateTime } = luxon;

// The operator's calling session (DESIGN.md rule 8): one lead at a time, claimed by
// crm.lead.outbound_next_lead; one key per outcome; Log & next brings the next lead.
// What the screen holds about the lead on display: cleared for each new lead.
function blankCard() {
    return {
        paused: false,
        card: null,
        status: null,
        codeId: false,
        note: "",
        agreedAt: false,
        pickKey: false,
        preview: false,
        dialedAt: null,
        skipping: false,
        skipReason: "",
        // The contact level whose script is shown: the chosen status's, or the tab's.
        scriptLevel: false,
    };
}

export class OutboundSession extends Component {
    static template = "crm_outbound.OutboundSession";
    static props = { ...standardActionServiceProps };
    static components = { DateTimeInput };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ ...blankCard(), loading: true, logged: 0 });
        useExternalListener(window, "keydown", this.onKeydown);
        onWillStart(() => this.next());
    }

    // ---- loading ----------------------------------------------------------

    async next() {
        this.state.loading = true;
        this.show(await this.orm.call("crm.lead", "outbound_session_next", []));
    }

    show(card) {
        Object.assign(this.state, { ...blankCard(), loading: false, card: card || null });
    }

    get statuses() {
        return (this.state.card?.status_groups || []).flatMap((group) => group.statuses);
    }

    /** The most specific script the server found for the lead's segment and, once the
     * screen knows who is on the line (a status or a tab chosen), for that contact level. */
    get script() {
        const card = this.state.card;
        const forLevel = card?.level_scripts.find((entry) => entry.level === this.state.scriptLevel);
        const script = forLevel ? forLevel.script : card?.script;
        return script ? markup(script) : false;
    }

    showScriptFor(level) {
        this.state.scriptLevel = level;
    }

    get needsDate() {
        const code = this.selectedCode;
        return Boolean(this.state.status?.needs_date && !code?.override_delay);
    }

    get selectedCode() {
        return this.state.status?.codes.find((code) => code.id === this.state.codeId);
    }

    get noteRequired() {
        return Boolean(this.state.status?.comment_required || this.selectedCode?.comment_required);
    }

    get notePlaceholder() {
        return this.noteRequired ? _t("Comment (required)") : _t("Comment");
    }

    get canLog() {
        return Boolean(
            this.state.status &&
                (!this.needsDate || this.state.agreedAt) &&
                (!this.noteRequired || this.state.note.trim())
        );
    }

    get agreedValue() {
        return this.state.agreedAt ? deserializeDateTime(this.state.agreedAt) : false;
    }

    formatUtc(value) {
        return value ? formatDateTime(deserializeDateTime(value)) : "";
    }

    /** The pick's time in the client's zone and, when it differs, in the operator's. */
    pickLabel(pick) {
        const at = deserializeDateTime(pick.value);
        if (!this.state.card.client_time_differs) {
            return pick.label;
        }
        return _t("%(label)s (%(time)s your time)", {
            label: pick.label,
            time: formatDateTime(at, { format: "HH:mm" }),
        });
    }

    // ---- choosing the outcome ---------------------------------------------

    async selectStatus(status) {
        this.state.status = status;
        this.state.scriptLevel = status.contact_level;
        if (!status.codes.some((code) => code.id === this.state.codeId)) {
            this.state.codeId = false;
        }
        // No answer needs nothing more: one key logs it.
        if (status.outcome === "no_answer" && !status.needs_date && !status.comment_required) {
            return this.log();
        }
        await this.updatePreview();
    }

    async selectCode(code) {
        this.state.codeId = this.state.codeId === code.id ? false : code.id;
        await this.updatePreview();
    }

    async pick(pick) {
        this.state.agreedAt = pick.value;
        this.state.pickKey = pick.key;
        await this.updatePreview();
    }

    /** A day picked or typed: the server gives it a time one can call at (a bare day is
     * midnight), as in the Log call dialog. */
    async onAgreedPicked(value) {
        this.state.pickKey = false;
        const agreedAt = value ? serializeDateTime(value) : false;
        this.state.agreedAt = agreedAt
            ? await this.orm.call("crm.lead", "outbound_agreed_call_time", [agreedAt, value.zoneName])
            : false;
        await this.updatePreview();
    }

    async updatePreview() {
        const { card, status } = this.state;
        if (!status) {
            this.state.preview = false;
            return;
        }
        const due = await this.orm.call("crm.lead", "outbound_preview_next_call", [
            [card.id],
            status.id,
            this.state.codeId,
            this.needsDate ? this.state.agreedAt : false,
        ]);
        this.state.preview = due ? this.formatUtc(due) : _t("No further call");
    }

    onDial() {
        this.state.dialedAt = DateTime.now();
    }

    // ---- logging, skipping, pausing -----------------------------------------

    async log() {
        if (!this.canLog || this.state.loading) {
            return;
        }
        const vals = {
            status_id: this.state.status.id,
            comment_code_id: this.state.codeId || false,
            note: this.state.note,
            agreed_at: this.needsDate ? this.state.agreedAt : false,
        };
        if (this.state.dialedAt) {
            vals.call_at = serializeDateTime(this.state.dialedAt);
            vals.duration = Math.max(0, Math.round(DateTime.now().diff(this.state.dialedAt).as("seconds")));
        }
        this.state.loading = true;
        try {
            const card = await this.orm.call("crm.lead", "outbound_session_log", [[this.state.card.id], vals]);
            this.state.logged++;
            this.show(card);
        } finally {
            this.state.loading = false;
        }
    }

    async skip() {
        if (!this.state.skipping) {
            this.state.skipping = true;
            return;
        }
        const reason = this.state.skipReason.trim();
        if (!reason) {
            return;
        }
        this.state.loading = true;
        try {
            this.show(await this.orm.call("crm.lead", "outbound_session_skip", [[this.state.card.id], reason]));
        } finally {
            this.state.loading = false;
        }
    }

    async pause() {
        if (this.state.card) {
            await this.orm.call("crm.lead", "outbound_session_pause", [[this.state.card.id]]);
        }
        this.state.card = null;
        this.state.paused = true;
    }

    onKeydown(ev) {
        if (!this.state.card || this.state.loading || ev.altKey || ev.metaKey) {
            return;
        }
        const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(ev.target.tagName);
        if (ev.key === "Enter" && (!typing || ev.ctrlKey)) {
            ev.preventDefault();
            if (this.state.skipping) {
                this.skip();
            } else {
                this.log();
            }
            return;
        }
        if (typing || ev.ctrlKey) {
            return;
        }
        const status = this.statuses.find((s) => s.hotkey && s.hotkey === ev.key.toLowerCase());
        if (status) {
            ev.preventDefault();
            this.selectStatus(status);
        }
    }
}

registry.category("actions").add("crm_outbound_session", OutboundSession);
