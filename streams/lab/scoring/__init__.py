"""Pure scorers: NAB (:mod:`.nab`), breach prediction (:mod:`.breach`) and point-wise
precision/recall/F1 with and without point-adjust (:mod:`.pointwise`).

Each takes plain values (numpy arrays, lists, dataclasses) and returns frozen dataclasses;
nothing here reads files or talks to a broker.
"""
