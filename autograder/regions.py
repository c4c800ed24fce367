"""The student's regions, as 头歌 marks them: `##########Begin##########` ... `##########End##########`.

  BEGIN, END      the markers as the course writes them (references, scaffolds)
  REGION          a region as the course writes it (groups: indentation, the Begin line, the inside,
                  the End line); the build wraps its inside in nbgrader's solution markers
  MARKER_LINE     one of the course's marker lines (the build drops them from code it stamps as given)
  STUDENT_MARKER  a marker line as a student may have left it (spacing, case or the number of #s changed)
  STUDENT_REGION  a region between two such lines (group 1: the inside); 查重 reads submissions with it
"""
import re

BEGIN, END = "##########Begin##########", "##########End##########"
REGION = re.compile(rf"^( *)({BEGIN}\n)(.*?)^( *{END})$", re.S | re.M)
MARKER_LINE = re.compile(rf"^ *(?:{BEGIN}|{END})\n", re.M)
_LENIENT = r"^[ \t]*#{{3,}}\s*{}\s*#{{3,}}[ \t]*$"
STUDENT_MARKER = re.compile(_LENIENT.format("(?:Begin|End)"), re.M | re.I)
STUDENT_REGION = re.compile(_LENIENT.format("Begin") + "(.*?)" + _LENIENT.format("End"), re.S | re.M | re.I)
