"""The `course` command: list the lessons, run them headless, fetch the data, measure the results.

    course list                          the syllabus, each lesson's status, and executed copies
    course run 01 05 [--engine tensorflow] [--fast] [--output-dir DIR]
    course data fetch                    download (where needed) and verify every data file
    course results [--fast]              run the lessons, write their results into lessons/README.md
                                         (full mode: also the measured times in the lessons' text)
    course grading resume ASSIGNMENT     finish an interrupted `nbgrader autograde` (grading/README.md)
    course grading validate ASSIGNMENT   `nbgrader validate` its sources; fails when one is missing or fails

Also ``python -m course ...``. Exit status 0 on success, 1 when a lesson or a data file fails, 2 on a
usage error.
"""

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

from course import lessons

__all__ = ["main", "build_parser"]


def _relative(path):
    """`path` relative to the current folder when it is below it (shorter to read)."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _cell_bar(name):
    """A per-cell progress bar for one lesson (on stderr; tqdm turns it off when that is not a
    terminal), and the callback that advances it."""
    from tqdm.auto import tqdm

    bar = tqdm(desc=name, unit="cell", leave=False, disable=None, file=sys.stderr)

    def on_cell(index, total):
        bar.total = total
        bar.n = index
        bar.refresh()

    return bar, on_cell


def _run_one(path, output_dir, args, report_file=None):
    """Run one lesson, printing its outcome; returns the `LessonRun`, or None when it failed."""
    bar, on_cell = _cell_bar(path.name)
    try:
        run = lessons.run_lesson(path, output_dir, engine=args.engine, fast=bool(args.fast),
                                 timeout=args.timeout, report_file=report_file, on_cell=on_cell)
    except lessons.LessonError as exc:
        bar.close()
        took = f" after {exc.seconds:.1f} s" if exc.seconds is not None else ""
        print(f"{path.name}: FAILED{took}", flush=True)
        print(str(exc), file=sys.stderr, flush=True)
        return None
    bar.close()
    print(f"{path.name}: ok in {run.seconds:.1f} s ({run.engine}{', fast' if run.fast else ''}) -> "
          f"{_relative(run.output)}", flush=True)
    for problem in run.problems:
        print(f"  note: {problem}", flush=True)
    return run


def _resolve(specs, lessons_dir):
    """Lesson specs ("01", "lenet5", a path, "all") to notebook paths; errors printed, None on error."""
    if not specs or specs == ["all"]:
        paths = lessons.lesson_files(lessons_dir)
        if not paths:
            print(f"course: there are no lesson notebooks in {lessons_dir} yet", file=sys.stderr)
        return paths
    paths = []
    for spec in specs:
        try:
            paths.append(lessons.find_lesson(spec, lessons_dir))
        except LookupError as exc:
            print(f"course: {exc}", file=sys.stderr)
            return None
    return paths


# ---------------------------------------------------------------------------------------------------
# Commands


def cmd_list(args):
    print(f"Lessons in {_relative(args.lessons_dir)}; executed copies in {_relative(args.output_dir)}")
    print(f"{'':2}  {'status':<9}  {'executed':<8}  lesson")
    for lesson in lessons.SYLLABUS:
        status = lesson.status(args.lessons_dir)
        path = lesson.path(args.lessons_dir)
        name = path.name if path is not None else lesson.notebook
        executed = "yes" if (Path(args.output_dir) / name).is_file() else "no"
        title = f"{lesson.title}  ({name})"
        print(f"{lesson.tag}  {status:<9}  {executed:<8}  {title}")
    return 0


def cmd_run(args):
    paths = _resolve(args.lessons, args.lessons_dir)
    if not paths:
        return 1
    failed = [path.name for path in paths if _run_one(path, args.output_dir, args) is None]
    if len(paths) > 1:
        print(f"{len(paths) - len(failed)} of {len(paths)} lessons ran without errors"
              + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_data_fetch(args):
    from course import data

    root = data.datasets_dir()
    where = f"TFCORE_DATASETS={root} (no downloads)" if root is not None else f"cache {data.cache_dir()}"
    print(f"Checking {len(data.names())} data files in {where}", flush=True)
    try:
        paths = data.fetch_all(progress=True)
    except data.DataFileError as exc:
        print(f"course data fetch: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", []):
            print(f"  {note}", file=sys.stderr)
        return 1
    print(f"All {len(paths)} data files are present and verified.")
    return 0


def cmd_results(args):
    paths = _resolve(args.lessons, args.lessons_dir)
    if not paths:
        return 1
    readme = Path(args.readme) if args.readme else Path(args.lessons_dir) / "README.md"
    if not args.no_write:  # find out before running lessons for an hour that the table has no place
        try:
            lessons.replace_results(readme.read_text(encoding="utf-8"), "", where=str(readme))
        except (OSError, ValueError) as exc:
            print(f"course results: {exc}", file=sys.stderr)
            return 1
    results, failed = [], []
    with tempfile.TemporaryDirectory(prefix="course-results-") as tmp:
        for path in paths:
            report_file = Path(tmp) / f"{path.stem}.jsonl"
            run = _run_one(path, args.output_dir, args, report_file=report_file)
            if run is None:
                failed.append(path.name)
                continue
            reports = [r for r in lessons.read_reports(report_file) if r.get("lesson") in ("", path.stem)]
            for report in reports:
                print(f"  {report['name']}: {report['value']}")
            results.append((path.name, run.seconds, reports))
    if failed:
        print(f"course results: {', '.join(failed)} failed; {readme} was not changed", file=sys.stderr)
        return 1
    engine = args.engine or _engine_from_environment()
    table = lessons.results_table(results, lessons.machine_info(engine), datetime.date.today(),
                                  fast=bool(args.fast))
    print()
    print(table)
    if args.no_write:
        return 0
    try:
        lessons.update_readme(readme, table)
    except (OSError, ValueError) as exc:
        print(f"course results: {exc}", file=sys.stderr)
        return 1
    print(f"\nWrote the results into {_relative(readme)}")
    if args.fast:  # fast mode's times say nothing about the lessons' full runs
        return 0
    try:
        changed = lessons.update_measured(paths, lessons.measured_values(results))
    except (OSError, ValueError) as exc:
        print(f"course results: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"Wrote the measured times into {_relative(path)}")
    return 0


def _grading_step(name, step):
    """Run a `course grading NAME` step; a missing file or folder is a one-line error, status 1."""
    try:
        return step()
    except FileNotFoundError as exc:
        print(f"course grading {name}: {exc}", file=sys.stderr)
        return 1


def cmd_grading_resume(args):
    from course import grading

    return _grading_step("resume", lambda: grading.resume(args.course_dir, args.assignment))


def cmd_grading_validate(args):
    from course.grading import validate

    return _grading_step("validate", lambda: validate.validate(args.names, args.exercises))


def _add_grading_commands(commands):
    """`course grading resume` and `validate`: grading steps nbgrader lacks (course/grading/)."""
    grading = commands.add_parser("grading", help="grading steps nbgrader has no command for")
    actions = grading.add_subparsers(dest="grading_command", metavar="ACTION")
    actions.required = True
    resume = actions.add_parser("resume", help="regrade the students an interrupted `nbgrader autograde` "
                                "left unfinished, then the ones not graded yet")
    resume.add_argument("assignment", help="the assignment id, e.g. 02_activation_functions")
    resume.add_argument("--course-dir", type=Path, default=Path.cwd(),
                        help="the course folder (where nbgrader_config.py is; default: the current folder)")
    resume.set_defaults(func=cmd_grading_resume)
    check = actions.add_parser("validate", help="`nbgrader validate` an assignment's source notebooks (or "
                               "notebook paths); fails when a file is missing or a notebook fails")
    check.add_argument("names", nargs="+", metavar="ASSIGNMENT|NOTEBOOK")
    check.add_argument("--exercises", type=Path, default=Path(__file__).resolve().parent.parent / "exercises",
                       help="the source assignments (default: exercises/ of this checkout)")
    check.set_defaults(func=cmd_grading_validate)


def _engine_from_environment():
    """The engine lessons get from the environment (COURSE_ENGINE), for the results' machine line."""
    from course.engine import engine_name

    return engine_name()


# ---------------------------------------------------------------------------------------------------
# The parser


def build_parser():
    """The argparse parser of the `course` command."""
    parser = argparse.ArgumentParser(prog="course", description="The deep-learning course: lessons, data, "
                                     "results.")
    parser.add_argument("--lessons-dir", type=Path, default=lessons.LESSONS_DIR,
                        help="the folder of the lesson notebooks (default: lessons/ of this checkout)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def run_options(sub):
        sub.add_argument("--engine", choices=["tfcore", "tensorflow"], default=None,
                         help="the engine the lessons use (default: $COURSE_ENGINE, else tfcore)")
        sub.add_argument("--fast", action="store_true", help="fast mode (COURSE_FAST=1): short training")
        sub.add_argument("--output-dir", type=Path, default=lessons.EXECUTED_DIR,
                         help="where executed copies are written (default: runs/executed/)")
        sub.add_argument("--timeout", type=float, default=lessons.DEFAULT_CELL_TIMEOUT,
                         help="seconds one cell may run (default: %(default)s)")

    listing = commands.add_parser("list", help="the syllabus with each lesson's status")
    listing.add_argument("--output-dir", type=Path, default=lessons.EXECUTED_DIR,
                         help="where executed copies are looked for (default: runs/executed/)")
    listing.set_defaults(func=cmd_list)

    run = commands.add_parser("run", help="execute lessons headless; the executed copies go to --output-dir")
    run.add_argument("lessons", nargs="+", metavar="LESSON",
                     help="a lesson number (1, 05), a notebook name or part of one, a path, or 'all'")
    run_options(run)
    run.set_defaults(func=cmd_run)

    data = commands.add_parser("data", help="the course's data files")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_commands.required = True
    fetch = data_commands.add_parser("fetch", help="download (where needed) and verify every data file")
    fetch.set_defaults(func=cmd_data_fetch)

    results = commands.add_parser("results", help="run the lessons (full mode unless --fast) and write what "
                                  "they report into the results table of lessons/README.md and, in full "
                                  "mode, into the measured spans of the lessons' text")
    results.add_argument("lessons", nargs="*", metavar="LESSON", help="the lessons to run (default: all)")
    run_options(results)
    results.add_argument("--readme", type=Path, default=None,
                         help="the file with the results markers (default: README.md in the lessons folder)")
    results.add_argument("--no-write", action="store_true", help="print the table, leave the README as is")
    results.set_defaults(func=cmd_results)
    _add_grading_commands(commands)
    return parser


def main(argv=None):
    """Run the `course` command with `argv` (default: the command line); returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
