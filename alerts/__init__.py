"""Alerting: rules matched against stories, an outbox delivered exactly once per channel (docs/alerts.md).

Pure logic: `keywords` (expressions), `facts` (fact conditions), `rules` (validation, parsed conditions, TOML;
the `Rule` record itself is in newsmon/model.py), `engine` (matching, follow-up decisions, the outbox rows),
`messages` (payload and renderings), `secrets` (placeholders, refusal of literal secrets, redaction), `sql` (the
SQL-rule sandbox). Sends: `channels` (webhook, apprise, Prefect events). The passes over the store are
flows/alerting.py; the commands, newsmon/alerts_cli.py.
"""
