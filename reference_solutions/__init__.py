"""Reference implementations, one module per assignment, device-agnostic.

Each module is the single source of the solution code: the source notebooks' solution
regions are generated from the sections marked `# <level: NAME>` ... `# </level>`.
Known-wrong implementations live in `known_wrong/`, beside them.
"""
