"""The priorities exercise (report, para 14): asking partners which key crime areas matter.

The secretariat opens an exercise over the Government strategy's eight key crime areas plus the
Board's own (and any current priority); one contact per partner (their deputy while they are
away) is asked by direct message whether their service would lead on, contribute to, or has no
interest in each area. A partner's later answer replaces its earlier one, and every version is
kept. The chair sees the tally and records the three or four areas the Board chose, which
summaries and the App Home then put first.

`commands` (what people type), `answers` (parsing and recording one), `forms` (the answer form),
`exercise` (who and what is asked), `invitations` (the messages due, for the worker), `tally`,
and `messages` (the words).
"""
