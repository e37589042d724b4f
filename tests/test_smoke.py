from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSmoke(TransactionCase):
    def test_models(self):
        self.assertIn("crm.outbound.status", self.env)
