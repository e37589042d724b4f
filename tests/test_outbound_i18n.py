import polib

from odoo.tests import TransactionCase, new_test_user, tagged
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
        """A new string without its Russian fails here, not in front of a Russian user.

        The terms are those Odoo's own export (``--i18n-export``) finds in the module on
        this series. A record's term loads only through an entry that names the record
        (``#: model:...``): a msgid translated for one field leaves another field with
        the same label in English, so each record's occurrence is checked too."""
        reader = TranslationModuleReader(self.env.cr, modules=["crm_outbound"])
        catalog = polib.pofile(file_path("crm_outbound/i18n/ru.po"))
        entries = {entry.msgid: entry for entry in catalog if not entry.obsolete}
        missing, untranslated, unplaced = set(), set(), set()
        for _module, kind, name, res_id, source, _value, _comments in reader:
            entry = entries.get(source)
            if entry is None:
                missing.add(source)
            elif not entry.msgstr or entry.fuzzy:
                untranslated.add(source)
            elif kind != "code" and f"{kind}:{name}:{res_id}" not in {ref for ref, _line in entry.occurrences}:
                unplaced.add(f"{kind}:{name}:{res_id} ({source})")
        self.assertFalse(sorted(missing), "terms missing from i18n/ru.po")
        self.assertFalse(sorted(untranslated), "terms without Russian in i18n/ru.po")
        self.assertFalse(sorted(unplaced), "records whose term i18n/ru.po does not name (regenerate it)")

    def test_task_summary_in_the_salespersons_language(self):
        """A lead created over RPC (no language in the context) gets its task in the
        Russian salesperson's words, not «Redial в …»."""
        salesman = new_test_user(
            self.env, login="outbound_ru_salesman", groups="sales_team.group_sale_salesman", lang="ru_RU", tz="UTC"
        )
        team = self.env["crm.team"].create(
            {
                "name": "Russian team",
                "outbound_playbook_id": self.env.ref("crm_outbound.playbook_trial_lesson").id,
                "member_ids": [(4, salesman.id)],
            }
        )
        rpc_env = self.env(context={}, user=salesman)
        lead = rpc_env["crm.lead"].create({"name": "RPC lead", "team_id": team.id, "user_id": salesman.id})
        task = lead.activity_ids
        self.assertEqual(len(task), 1)
        self.assertTrue(task.summary.startswith("Дозвониться в "), task.summary)
