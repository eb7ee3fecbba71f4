"""One engine for work on many targets at once: `run`, `copy`, `run --via`, `sql|redis|mongo --on`.

Each target's work runs in a worker thread, at most `fanout` at a time, and reports through
one queue; the main thread reads it in slices of a tenth of a second (so Ctrl-C is never
stuck) and hands every event to the consumer, a Handler, in the manner of ClusterShell's
EventHandler:

    ev_start(target)                 its work began (a worker picked it up)
    ev_output(target, stream, text)  whole lines of its output
    ev_progress(target, amount)      part of its work done (bytes copied)
    ev_question([question, ...])     it asks the person something (a password, a host key,
                                     a confirmation); answered here, on the main thread
    ev_done(target, result)          it finished (well or not)
    ev_cancelled(target, result)     the fan-out was stopped before it finished

A question can be held (`Handler.holds`): it waits until every running target has asked,
finished or said it will ask nothing more (`Job.settle`, e.g. once its command runs), then all
held questions of its kind come to `ev_question` together, so one answer can serve them all.
A target that does none of these (a host hanging while connecting, a worker waiting for a
connection another target is asking about) holds them at most HOLD_QUIET seconds after the
last one came. Ctrl-C is one path for every consumer: running work is
interrupted (then killed after STOP_GRACE), targets not started are cancelled, what finished
is kept. The engine knows no backend: what a target's work is, how its result looks and how
it is stopped are the caller's (ssh's channels and signals, a database handle's cancel()).

    events.py    the protocol: the events, Question, Handler, what a result must offer
    control.py   the workers' side: Control (shared with everything that stops with the
                 fan-out), Job (what a target's work gets), Running, Delegate
    engine.py    the main thread's side: FanOut (start, follow / wait, Ctrl-C, outcome)
"""
