"""Request and response bodies of the HTTP API, kept apart from the domain events: one module
per route module (``routes/cases.py`` answers with ``schemas/cases.py``), and ``common`` for
what they share.

Class names are the OpenAPI component names a generated client is built from, so they stay
as published: request bodies are named ``…In`` except the older ``ClientRegistration``,
``ClientCorrection``, ``SupportContactRemoval`` and ``CaseIntake``, and the parts nested in
them (``ClientChanges``, ``NeedRating``, ``Activity``) are named for what they hold.
"""
