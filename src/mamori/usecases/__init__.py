"""Use cases: ready-made tasks (要約, 翻訳, 議会答弁案…) defined as data.

``definition`` is their schema, ``prompt`` turns a filled-in form into the message a turn
sends, ``builtin/`` holds the ones mamori ships, and ``catalog`` merges those with what
administrators added, edited or hid.
"""
