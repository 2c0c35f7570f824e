"""Interface strings and user-facing error sentences of the web app, in English, French and Vietnamese."""

from __future__ import annotations

from assistant.text.languages import UI_LANGUAGES
from assistant.text.render import render

# keys are shared by the chat page (labels, status, examples) and the API's error sentences
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Convention Assistant",
        "subtitle": "Cited answers about the UN Convention against Cybercrime (Hanoi) and the Budapest "
                    "Convention, only from the ingested materials.",
        "question": "Your question",
        "placeholder": "Ask about the conventions, in any language",
        "send": "Ask",
        "clear": "Clear chat",
        "examples": "Example questions",
        "filters": "Filters",
        "languages": "Document languages",
        "kinds": "Document kinds",
        "mode": "Answer mode",
        "sources": "Sources of the last answer (click one)",
        "source_panel": "Cited source",
        "no_source": "Click a source to see the quoted passage in its context.",
        "open_original": "Open the original",
        "chat_tab": "Chat",
        "admin_tab": "Admin: ingest",
        "admin_token": "Admin token",
        "unlock": "Unlock",
        "bad_token": "The admin token is wrong: check CA_ADMIN_TOKEN.",
        "upload": "Files to ingest",
        "urls": "URLs to ingest (one per line)",
        "ingest": "Ingest",
        "status": "Index status",
        "thanks": "Thank you for your feedback.",
        "err_input": "Your request is invalid: check the question and the filters, then send it again.",
        "err_busy": "The assistant is busy: try again in a few seconds.",
        "err_rate": "Too many questions from your address: wait {seconds} seconds and try again.",
        "err_store": "The document index is unavailable right now: try again in a minute.",
        "err_internal": "The assistant could not answer this question: try again, or rephrase it.",
        "err_validation": "The request is invalid ({where}: {what}): fix it and send it again.",
        "err_not_found": "No document with id {doc_id} is indexed: use the doc_id of a citation.",
        "err_key": "The API key is missing or wrong: send one of the keys in CA_API_KEYS as "
                   "'Authorization: Bearer KEY'.",
        "err_model": "There is no model {model}: use one of {models} (GET /v1/models lists them).",
        "err_route": "There is no {path} here: use GET /v1/models or POST /v1/chat/completions.",
        "sources_heading": "Sources",
        "ui_language": "Language",
        "language_name": "English",
        "example_1": "When does the UN Convention against Cybercrime enter into force?",
        "example_2": "How many countries signed the Convention in Hanoi?",
        "example_3": "When was the Hanoi Convention signed?",
        "example_4": "What does Article 16 of the Budapest Convention require?",
        "field_title": "Title",
        "field_outlet": "Outlet",
        "field_kind": "Kind",
        "field_date": "Date",
        "field_language": "Language",
        "field_where": "Where",
        "field_source": "Source",
        "ingest_report": "added {added}, updated {updated}, unchanged {unchanged}, chunks written {chunks}, "
                         "{seconds} s",
        "index_counts": "{documents} documents, {chunks} chunks ({collection})",
    },
    "fr": {
        "title": "Assistant Conventions",
        "subtitle": "Réponses sourcées sur la Convention des Nations unies contre la cybercriminalité "
                    "(Hanoï) et la Convention de Budapest, à partir des seuls documents indexés.",
        "question": "Votre question",
        "placeholder": "Posez une question sur les conventions, dans votre langue",
        "send": "Demander",
        "clear": "Effacer la conversation",
        "examples": "Exemples de questions",
        "filters": "Filtres",
        "languages": "Langues des documents",
        "kinds": "Types de documents",
        "mode": "Mode de réponse",
        "sources": "Sources de la dernière réponse (cliquez)",
        "source_panel": "Source citée",
        "no_source": "Cliquez sur une source pour voir le passage cité dans son contexte.",
        "open_original": "Ouvrir l'original",
        "chat_tab": "Conversation",
        "admin_tab": "Admin : indexation",
        "admin_token": "Jeton d'administration",
        "unlock": "Déverrouiller",
        "bad_token": "Le jeton d'administration est incorrect : vérifiez CA_ADMIN_TOKEN.",
        "upload": "Fichiers à indexer",
        "urls": "URL à indexer (une par ligne)",
        "ingest": "Indexer",
        "status": "État de l'index",
        "thanks": "Merci pour votre avis.",
        "err_input": "Votre demande n'est pas valide : vérifiez la question et les filtres, puis "
                     "renvoyez-la.",
        "err_busy": "L'assistant est occupé : réessayez dans quelques secondes.",
        "err_rate": "Trop de questions depuis votre adresse : attendez {seconds} secondes puis réessayez.",
        "err_store": "L'index des documents est indisponible pour le moment : réessayez dans une minute.",
        "err_internal": "L'assistant n'a pas pu répondre à cette question : réessayez ou reformulez-la.",
        "err_validation": "La requête n'est pas valide ({where} : {what}) : corrigez-la et renvoyez-la.",
        "err_not_found": "Aucun document d'identifiant {doc_id} n'est indexé : utilisez le doc_id d'une "
                         "citation.",
        "err_key": "La clé d'API manque ou est fausse : envoyez l'une des clés de CA_API_KEYS sous la "
                   "forme 'Authorization: Bearer CLÉ'.",
        "err_model": "Il n'y a pas de modèle {model} : utilisez l'un de {models} (GET /v1/models les "
                     "liste).",
        "err_route": "Il n'y a rien à {path} : utilisez GET /v1/models ou POST /v1/chat/completions.",
        "sources_heading": "Sources",
        "ui_language": "Langue",
        "language_name": "Français",
        "example_1": "Quand la Convention des Nations unies contre la cybercriminalité entre-t-elle en "
                     "vigueur ?",
        "example_2": "Combien d'États ont signé la Convention à Hanoï ?",
        "example_3": "Quand la Convention de Hanoï a-t-elle été signée ?",
        "example_4": "Que prévoit l'article 16 de la Convention de Budapest ?",
        "field_title": "Titre",
        "field_outlet": "Média",
        "field_kind": "Type",
        "field_date": "Date",
        "field_language": "Langue",
        "field_where": "Emplacement",
        "field_source": "Source",
        "ingest_report": "ajoutés {added}, mis à jour {updated}, inchangés {unchanged}, extraits écrits "
                         "{chunks}, {seconds} s",
        "index_counts": "{documents} documents, {chunks} extraits ({collection})",
    },
    "vi": {
        "title": "Trợ lý Công ước",
        "subtitle": "Câu trả lời có trích dẫn về Công ước của Liên Hợp Quốc về chống tội phạm mạng "
                    "(Hà Nội) và Công ước Budapest, chỉ từ các tài liệu đã nạp.",
        "question": "Câu hỏi của bạn",
        "placeholder": "Hỏi về các công ước, bằng ngôn ngữ của bạn",
        "send": "Hỏi",
        "clear": "Xóa cuộc trò chuyện",
        "examples": "Câu hỏi mẫu",
        "filters": "Bộ lọc",
        "languages": "Ngôn ngữ tài liệu",
        "kinds": "Loại tài liệu",
        "mode": "Chế độ trả lời",
        "sources": "Nguồn của câu trả lời gần nhất (nhấn để xem)",
        "source_panel": "Nguồn được trích dẫn",
        "no_source": "Nhấn vào một nguồn để xem đoạn trích trong ngữ cảnh.",
        "open_original": "Mở bản gốc",
        "chat_tab": "Trò chuyện",
        "admin_tab": "Quản trị: nạp tài liệu",
        "admin_token": "Mã quản trị",
        "unlock": "Mở khóa",
        "bad_token": "Mã quản trị không đúng: hãy kiểm tra CA_ADMIN_TOKEN.",
        "upload": "Tệp cần nạp",
        "urls": "URL cần nạp (mỗi dòng một URL)",
        "ingest": "Nạp",
        "status": "Trạng thái chỉ mục",
        "thanks": "Cảm ơn phản hồi của bạn.",
        "err_input": "Yêu cầu của bạn không hợp lệ: hãy kiểm tra câu hỏi và bộ lọc rồi gửi lại.",
        "err_busy": "Trợ lý đang bận: hãy thử lại sau vài giây.",
        "err_rate": "Quá nhiều câu hỏi từ địa chỉ của bạn: hãy đợi {seconds} giây rồi thử lại.",
        "err_store": "Chỉ mục tài liệu tạm thời không khả dụng: hãy thử lại sau một phút.",
        "err_internal": "Trợ lý không thể trả lời câu hỏi này: hãy thử lại hoặc diễn đạt lại.",
        "err_validation": "Yêu cầu không hợp lệ ({where}: {what}): hãy sửa và gửi lại.",
        "err_not_found": "Không có tài liệu nào với mã {doc_id} trong chỉ mục: hãy dùng doc_id của một "
                         "trích dẫn.",
        "err_key": "Khóa API bị thiếu hoặc sai: hãy gửi một trong các khóa của CA_API_KEYS dưới dạng "
                   "'Authorization: Bearer KHÓA'.",
        "err_model": "Không có mô hình {model}: hãy dùng một trong {models} (GET /v1/models liệt kê chúng).",
        "err_route": "Không có {path} ở đây: hãy dùng GET /v1/models hoặc POST /v1/chat/completions.",
        "sources_heading": "Nguồn",
        "ui_language": "Ngôn ngữ",
        "language_name": "Tiếng Việt",
        "example_1": "Khi nào Công ước của Liên Hợp Quốc về chống tội phạm mạng có hiệu lực?",
        "example_2": "Bao nhiêu quốc gia đã ký Công ước tại Hà Nội?",
        "example_3": "Công ước Hà Nội được ký kết khi nào?",
        "example_4": "Điều 16 của Công ước Budapest yêu cầu gì?",
        "field_title": "Tiêu đề",
        "field_outlet": "Cơ quan báo chí",
        "field_kind": "Loại",
        "field_date": "Ngày",
        "field_language": "Ngôn ngữ",
        "field_where": "Vị trí",
        "field_source": "Nguồn",
        "ingest_report": "đã thêm {added}, đã cập nhật {updated}, không đổi {unchanged}, đã ghi {chunks} "
                         "đoạn, {seconds} giây",
        "index_counts": "{documents} tài liệu, {chunks} đoạn ({collection})",
    },
}

def ui_language(preferred: str) -> str:
    """The interface language for a language code or an Accept-Language header ("fr-FR,fr;q=0.9")."""
    for part in preferred.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in UI_LANGUAGES:
            return code
    return "en"


def text(language: str, key: str, **values: object) -> str:
    """The string `key` in the interface language (English when the language has none), rendered strictly."""
    row = STRINGS.get(language) or STRINGS["en"]
    return render(row[key], values)
