"""``python -m core class challenge ACTION``: the design challenge from the command line, so a teacher
can script a lesson (docs/reference.md lists the payloads).

``open`` starts a challenge in the current class session with its rules; ``submit "NOTATION"
--nickname NAME`` queues a design (over a cap, or impossible: exit 2 with the reason); ``status``
shows the queue; ``run`` trains the waiting entries in this process, one after the other, in the
server group's one training slot; ``results`` ranks them (``--csv PATH`` writes them with their
notations); ``close`` ends the submissions. ``--challenge ID`` picks another than the session's
current one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.classroom import store as class_store
from core.classroom.db import StoreError
from core.classroom.design_challenge import queue as challenge_queue
from core.classroom.design_challenge.scoring import Challenge, ChallengeError, Rules, results_csv
from core.classroom.design_challenge.submissions import Challenges
from core.commands import CliError, emit
from core.files import atomic_write_bytes
from core.models.design import DesignError

CLI_KEY = "command line:"  # a submission's student key from here: one "student" per nickname


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="challenge_action", required=True, metavar="ACTION")

    def action(name: str, help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
        if name != "open":
            sub.add_argument("--challenge", type=int, help="a challenge id (default: the session's current one)")
        return sub

    defaults = Rules()
    opened = action("open", "open a design challenge in the current class session")
    opened.add_argument("--name", default="", help="its name, as the wall shows it")
    opened.add_argument("--cap-params", type=int, default=defaults.cap_params, help="most parameters (default 10,000)")
    opened.add_argument("--cap-macs", type=int, help="most multiply-adds per image (default: no cap)")
    opened.add_argument("--images", type=int, default=defaults.images, help="training images per entry")
    opened.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs per entry")
    opened.add_argument("--seconds", type=float, default=defaults.seconds, help="time limit per entry")
    opened.add_argument("--test-images", type=int, default=defaults.test_images, help="the score's test images")
    opened.add_argument("--seed", type=int, default=defaults.seed, help="the seed every entry trains with")
    submit = action("submit", "queue a design in the notation of `python -m core design`")
    submit.add_argument("notation", help='e.g. "conv4k5 relu max2 conv8k5 relu max2 dense16 relu"')
    submit.add_argument("--nickname", required=True, help="the name the leaderboard shows")
    action("status", "the challenge, its rules and its queue")
    action("run", "train the waiting entries here, one after the other")
    results = action("results", "the entries, ranked")
    results.add_argument("--csv", metavar="PATH", help="also write them as CSV, with their notations")
    action("close", "end the submissions (the queued entries are withdrawn; results stay)")


def _chosen(challenges: Challenges, args) -> Challenge:
    if getattr(args, "challenge", None) is not None:
        return challenges.challenge(args.challenge)
    current = challenges.current()
    if current is None:
        raise CliError("no challenge in this class session: open one with `python -m core class challenge open`")
    return current


def _payload(challenges: Challenges, challenge: Challenge) -> dict:
    return {
        "challenge": {
            "id": challenge.id,
            "name": challenge.name,
            "open": challenge.is_open,
            "stopped": challenge.stopped,
        },
        "rules": challenge.rules.__dict__,
        "entries": [e.to_dict() for e in challenges.entries(challenge.id)],
    }


def _table(payload: dict) -> str:
    c, rules = payload["challenge"], payload["rules"]
    lines = [
        f"challenge {c['id']}: {c['name']} ({'open' if c['open'] else 'closed'}{', stopped' if c['stopped'] else ''})",
        f"rules: at most {rules['cap_params']:,} parameters"
        + (f" and {rules['cap_macs']:,} multiply-adds" if rules["cap_macs"] else "")
        + f"; {rules['epochs']} epoch(s) on {rules['images']:,} images, seed {rules['seed']}, "
        f"{rules['seconds']:g} s at most; scored on {rules['test_images']:,} test images",
    ]
    for e in payload["entries"]:
        rank = f"{e['rank']:>3}" if e["rank"] else "  -"
        accuracy = f"{e['accuracy']:.2%}" if e["accuracy"] is not None else "-"
        lines.append(f"{rank}  {e['nickname']:<20} {e['params']:>9,} {accuracy:>8}  {e['status']:<10} {e['notation']}")
    return "\n".join(lines)


def run(args) -> int:
    try:
        store = class_store.store()
        challenges = Challenges(store)
        action = args.challenge_action
        if action == "open":
            rules = Rules(
                cap_params=args.cap_params,
                cap_macs=args.cap_macs,
                images=args.images,
                epochs=args.epochs,
                seconds=args.seconds,
                test_images=args.test_images,
                seed=args.seed,
            )
            challenge = challenges.open(args.name, rules)
        elif action == "submit":
            challenge = _chosen(challenges, args)
            entry = challenges.submit(
                challenge.id, student_key=CLI_KEY + args.nickname, nickname=args.nickname, notation=args.notation
            )
            place = challenges.place(entry.id)
            emit(
                args,
                {**entry.to_dict(), "place": place},
                f"queued {entry.nickname}'s design ({entry.params:,} parameters): place {place} in the queue",
            )
            return 0
        else:
            challenge = _chosen(challenges, args)
            if action == "run":
                challenge_queue.run_all(store)
            elif action == "close":
                challenge = challenges.close(challenge.id)
            elif action == "results" and args.csv:
                atomic_write_bytes(Path(args.csv), results_csv(challenges.entries(challenge.id)).encode())
        payload = _payload(challenges, challenges.challenge(challenge.id))
        emit(args, payload, _table(payload))
        return 0
    except (StoreError, DesignError, ChallengeError) as exc:
        raise CliError(str(exc)) from None
