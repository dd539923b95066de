"""Alerting: rules matched against stories, an outbox delivered exactly once per channel (docs/alerts.md).

Pure logic: `text` (folding), `keywords` (expressions), `facts` (fact conditions), `rules` (model, validation,
TOML), `engine` (matching and follow-up decisions), `messages` (payload and renderings), `secrets`
(placeholders, refusal of literal secrets, redaction). I/O: `channels` (webhook, apprise, Prefect events),
`service` (the evaluate and deliver passes over the store), `cli` (`newsmon alerts ...`).
"""
