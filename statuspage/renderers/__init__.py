"""The renderers: what the app's data looks like to a reader, written from what they are
handed (rows, a session to read through, a notice's typed payload). They never write: no
services, jobs, views, seed data or commands, and no database session of their own
(`make lint` holds it, `pyproject.toml`).

- `serializers`: Statuspage-shaped JSON, the API contract's response shapes;
- `publish`: rows turned into the calendar and feed builders' inputs (`calendars`);
- `mail`: a notice's email (subject, text, HTML) in the reader's language;
- `wording`: fixed phrases by key (notice headings, the calendars' chrome);
- `markdown`: Markdown to safe HTML, for every body shown;
- `templating`: the Jinja filters and globals of every page and email template.

The channels' own messages (a card, a text, the webhook envelope) are each channel's, in
`statuspage/channels/`.
"""
