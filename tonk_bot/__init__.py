"""The TONK domain: the application form, its model, the intake checks and the policy pre-assessment.

Start at `tonk_bot.intake.evaluate` (one application in, findings and advice out); policies
live in `config/policies/` (`tonk_bot.policy`). The framework (`common`) knows nothing of this.
"""
