"""Numbers shared by every stage: the ARC token code, grid limits and dihedral ids.

One place, so that 30, 2 and 12 are never repeated as bare literals across files.
"""

MAX_GRID = 30  # ARC grids are 1..30 x 1..30
NUM_COLORS = 10  # colours 0..9

# ARC token code: 0 PAD, 1 EOS, colours 0..9 -> 2..11.
PAD_TOKEN = 0
EOS_TOKEN = 1
COLOR_OFFSET = 2
ARC_VOCAB_SIZE = COLOR_OFFSET + NUM_COLORS

# Versions per task and example indices are stored as int16; task indices and puzzle ids as int32
# (the augmentation table, view plans, adaptation tables and checkpoints).
INT16_MAX = 32767
INT32_MAX = 2**31 - 1

# Puzzle id 0 is the "blank" task embedding: used for padding rows and unknown tasks.
BLANK_PUZZLE_ID = 0

# Dihedral ids: 0 identity, 1 rot90, 2 rot180, 3 rot270, 4 fliplr, 5 flipud,
# 6 transpose, 7 anti-transpose (fliplr of rot90). rot90/rot270 swap; the rest invert themselves.
NUM_DIHEDRAL = 8
DIHEDRAL_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)

# Columns of the augmentation table: original task index, dihedral id, colour map of colours 0..9.
AUG_TABLE_COLUMNS = 2 + NUM_COLORS

# Flags of every numba kernel (augmentation and the puzzle generators): cached compilation, and the
# GIL released so torch's threads keep running while a kernel does.
JIT_FLAGS = {"cache": True, "nogil": True}
PARALLEL_FLAGS = {**JIT_FLAGS, "parallel": True}
