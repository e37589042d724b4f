import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader


@tagged("post_install", "-at_install")
class TestOutboundRussian(TransactionCase):
    """i18n/ru.po loads and speaks the seeds' own words."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.env["ir.module.module"]._load_module_terms(["crm_outbound"], ["ru_RU"], overwrite=True)
        cls.ru = cls.env(context=dict(cls.env.context, lang="ru_RU"))

    def test_seed_catalog_in_russian(self):
        ref = self.ru.ref
        self.assertEqual(ref("crm_outbound.status_trial_no_answer").name, "Недозвон")
        self.assertEqual(ref("crm_outbound.lost_reason_not_reached_7").name, "Не дозвонились 7 раз")
        self.assertEqual(ref("crm_outbound.comment_trial_present").name, "Презент")

    def test_module_name_and_no_answer_streak(self):
        module = self.ru["ir.module.module"].search([("name", "=", "crm_outbound")])
        self.assertEqual(module.shortdesc, "CRM: исходящий обзвон")
        lead = self.ru["crm.lead"].new({"outbound_no_answer_count": 2})
        self.assertEqual(lead.outbound_no_answer_label, "Н2", "a Cyrillic Н, as operators write it")

    def test_every_term_of_the_module_is_translated(self):
        """A new string without its Russian fails here, not in front of a Russian user."""
        reader = TranslationModuleReader(self.env.cr, modules=["crm_outbound"])
        sources = {source for module, _type, _name, _res_id, source, _value, _comments in reader}
        catalog = polib.pofile(file_path("crm_outbound/i18n/ru.po"))
        translated = {entry.msgid for entry in catalog if entry.msgstr and not entry.obsolete}
        self.assertFalse(sorted(sources - translated), "terms missing from i18n/ru.po")
