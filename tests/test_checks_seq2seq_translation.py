"""What is particular to 04_seq2seq_translation's hidden checks (the common contract:
test_checks_every_assignment.py): the seeds' own code and other correct variants pass, diagnoses
name the mistake."""
import nbformat
import torch

import course_config
import reference_solutions.seq2seq_translation as ref
from autograder.engine.judge import judge
from autograder.engine.student import LocalStudent
from reference_solutions.known_wrong.seq2seq_translation import WRONG
from tests.checks_helpers import not_full_marks
from tests.seed_code import read

SPEC = course_config.assignment("seq2seq_translation")
LEVELS = [lv.name for lv in SPEC.levels]


def scaffold_header():
    """The notebook's first code cell (imports, char_list, seq_data, seq_len, n_hidden...)."""
    nb = nbformat.read(course_config.ROOT / "source" / SPEC.folder / f"{SPEC.name}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code")


def seed_student(epochs):
    """Seed 002's code as a student would paste it into the scaffold (which seeds the model's init),
    run on one thread as in the grading kernel."""
    seed = read("seed002_seq2seq.py").replace("{epochs}", str(epochs))
    seed = seed.replace("model = Seq2Seq()", "torch.manual_seed(4)\nmodel = Seq2Seq()")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return LocalStudent.from_source(scaffold_header() + "\n" + seed)
    finally:
        torch.set_num_threads(threads)


def test_seed_002_code_is_accepted():
    """头歌's reference answer, pasted into the regions (its loop run for 600 of its 5001 epochs)."""
    assert not_full_marks(judge("seq2seq_translation", seed_student(epochs=600))) == {}


def test_hidden_training_check_trains_a_fresh_model_of_the_students_class():
    """A student who hard-codes the six pairs cannot pass: the judge trains on other pairs."""
    source = scaffold_header() + "\n" + read("seed002_seq2seq.py").replace("{epochs}", "0") + """
class Seq2Seq(nn.Module):  # a model that ignores its input: it could only ever memorise
    def __init__(self):
        super().__init__()
        self.encoder = nn.RNN(n_class, n_hidden)
        self.decoder = nn.RNN(n_class, n_hidden)
        self.fc = nn.Linear(n_hidden, n_class)
    def forward(self, enc_input, enc_hidden, dec_input):
        outputs, _ = self.decoder(dec_input.transpose(0, 1), enc_hidden)
        return self.fc(outputs)
"""
    result = judge("seq2seq_translation", LocalStudent.from_source(source), levels=["seq2seq_model"])
    fresh = [c for c in result["seq2seq_model"].checks if "unseen" in c.name]
    assert fresh and not fresh[0].passed


def test_grading_is_reproducible():
    wrong = next(w for w in WRONG if w.name == "decoder_reuses_encoder")
    scores = [judge("seq2seq_translation", LocalStudent.from_module(ref, **wrong.overrides),
                    levels=["seq2seq_model"])["seq2seq_model"].score for _ in range(2)]
    assert scores[0] == scores[1] < 3
