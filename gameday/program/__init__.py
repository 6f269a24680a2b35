"""The program: the game days over time, read from many journals (never a running drill).

It sits beside :mod:`gameday.analysis` (which reads one journal), above the model and below the
CLI. :mod:`gameday.program.training` follows a trainee's rubric across training sessions and
places them on the incident commander ladder; :mod:`gameday.program.wheel` draws their next
scenario.
"""
