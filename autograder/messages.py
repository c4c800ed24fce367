"""Student-facing text in Chinese with English alongside, as course_config.LANGUAGE chooses."""
import course_config


def t(zh: str, en: str) -> str:
    """One message in the course's language(s): 'zh', 'en' or 'zh+en' (both, Chinese first)."""
    language = course_config.LANGUAGE
    if language == "zh":
        return zh
    if language == "en":
        return en
    return f"{zh} / {en}"
