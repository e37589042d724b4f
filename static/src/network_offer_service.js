import { registry } from "@web/core/registry";

/**
 * The offer after a result (DESIGN.md rule 4): a sticky notification with a button that
 * opens the Mark network siblings dialog, or the list of results with unmarked siblings.
 * Odoo's own "simple_notification" has no buttons, on 18.0 as on 19.0.
 */
export const networkOfferService = {
    dependencies: ["bus_service", "notification", "action"],
    start(env, { bus_service, notification, action }) {
        bus_service.subscribe("crm_outbound_network_offer", (payload) => {
            const close = notification.add(payload.message, {
                title: payload.title,
                type: "warning",
                sticky: true,
                buttons: [
                    {
                        name: payload.button,
                        primary: true,
                        onClick: () => {
                            close();
                            action.doAction(payload.action, { additionalContext: payload.context });
                        },
                    },
                ],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("crm_outbound_network_offer", networkOfferService);
