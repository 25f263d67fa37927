"""The request gate of every ``/v4`` call: token, IP allow-list, in-flight limit (spec 3.1).

Flask-free, below the HTTP layer: the runtime builds one gate per backend
(:mod:`.admission`), and the back office shows the allow-list as the guards parse it (:mod:`.guards`).
"""
