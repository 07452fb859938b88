"""Configuration without code: the installation's templates, checklists, rules, SLAs, organisation and branding.

One module per concern; every function takes the acting principal, refuses anyone but an administrator
(``require_admin``), validates everything before writing, and writes one audit row with the before and after
values in the same transaction as the change (so a refusal leaves nothing written).
"""
