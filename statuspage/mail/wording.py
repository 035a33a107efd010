"""Fixed phrases of the notice emails in English, Spanish and German.

The maintenance vocabulary follows the support plan's own translations.
"""

from __future__ import annotations

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "incident_created": "New incident",
        "incident_updated": "Incident update",
        "incident_resolved": "Incident resolved",
        "maintenance_week_before": "Maintenance in one week",
        "maintenance_day_before": "Maintenance in 24 hours",
        "maintenance_start": "Maintenance has started",
        "maintenance_completion": "Maintenance completed",
        "maintenance_rescheduled": "Maintenance rescheduled",
        "maintenance_cancelled": "Maintenance cancelled",
        "maintenance_release_notes": "Release notes",
        "maintenance_scheduled": "Unscheduled maintenance",
        "subscription_confirm": "Confirm your subscription",
        "p1g_overdue": "P1G update overdue",
        "master_case": "Master case P1G",
        "case_number": "Case number",
        "status": "Status",
        "priority": "Priority",
        "when": "Date and time",
        "previously": "Previously",
        "platforms": "Platforms affected",
        "description": "Description of the work",
        "justification": "Justification",
        "urgency": "Why it cannot wait",
        "note": "Note",
        "release_notes": "Added features and functionality",
        "no_impact": "No customer impact is expected.",
        "details": "Details",
        "confirm_intro": "Follow this link to confirm your subscription. Nothing else is sent "
        "until you do. The link is valid for seven days; if you did not ask for this, ignore "
        "this email.",
        "confirm_button": "Confirm subscription",
        "overdue_intro": "The hourly update of this master case was due at",
        "manage": "Manage your subscription",
        "unsubscribe": "Unsubscribe",
        "your_time": "your time",
    },
    "es": {
        "incident_created": "Nuevo incidente",
        "incident_updated": "Actualización del incidente",
        "incident_resolved": "Incidente resuelto",
        "maintenance_week_before": "Mantenimiento dentro de una semana",
        "maintenance_day_before": "Mantenimiento dentro de 24 horas",
        "maintenance_start": "El mantenimiento ha comenzado",
        "maintenance_completion": "Mantenimiento completado",
        "maintenance_rescheduled": "Mantenimiento reprogramado",
        "maintenance_cancelled": "Mantenimiento cancelado",
        "maintenance_release_notes": "Notas de la versión",
        "maintenance_scheduled": "Mantenimiento no programado",
        "subscription_confirm": "Confirme su suscripción",
        "p1g_overdue": "Actualización P1G atrasada",
        "master_case": "Caso principal P1G",
        "case_number": "Número de caso",
        "status": "Estado",
        "priority": "Prioridad",
        "when": "Fecha y hora",
        "previously": "Anteriormente",
        "platforms": "Productos afectados",
        "description": "Descripción del trabajo a realizar",
        "justification": "Justificación",
        "urgency": "Por qué no puede esperar",
        "note": "Nota",
        "release_notes": "Funciones y funcionalidades añadidas",
        "no_impact": "No se espera impacto para los clientes.",
        "details": "Detalles",
        "confirm_intro": "Siga este enlace para confirmar su suscripción. No se enviará nada "
        "más hasta que lo haga. El enlace es válido durante siete días; si no lo solicitó, "
        "ignore este correo.",
        "confirm_button": "Confirmar suscripción",
        "overdue_intro": "La actualización horaria de este caso principal vencía a las",
        "manage": "Gestionar su suscripción",
        "unsubscribe": "Darse de baja",
        "your_time": "su hora",
    },
    "de": {
        "incident_created": "Neuer Vorfall",
        "incident_updated": "Aktualisierung zum Vorfall",
        "incident_resolved": "Vorfall behoben",
        "maintenance_week_before": "Wartung in einer Woche",
        "maintenance_day_before": "Wartung in 24 Stunden",
        "maintenance_start": "Die Wartung hat begonnen",
        "maintenance_completion": "Wartung abgeschlossen",
        "maintenance_rescheduled": "Wartung verschoben",
        "maintenance_cancelled": "Wartung abgesagt",
        "maintenance_release_notes": "Versionshinweise",
        "maintenance_scheduled": "Außerplanmäßige Wartung",
        "subscription_confirm": "Bestätigen Sie Ihr Abonnement",
        "p1g_overdue": "P1G-Aktualisierung überfällig",
        "master_case": "Hauptfall P1G",
        "case_number": "Fallnummer",
        "status": "Status",
        "priority": "Priorität",
        "when": "Datum/Uhrzeit",
        "previously": "Bisher",
        "platforms": "Betroffene Produkte",
        "description": "Beschreibung der durchzuführenden Arbeiten",
        "justification": "Begründung",
        "urgency": "Warum es nicht warten kann",
        "note": "Hinweis",
        "release_notes": "Zusätzliche Merkmale und Funktionen",
        "no_impact": "Es werden keine Auswirkungen für Kunden erwartet.",
        "details": "Details",
        "confirm_intro": "Folgen Sie diesem Link, um Ihr Abonnement zu bestätigen. Bis dahin "
        "senden wir nichts anderes. Der Link ist sieben Tage gültig; wenn Sie dies nicht "
        "angefordert haben, ignorieren Sie diese E-Mail.",
        "confirm_button": "Abonnement bestätigen",
        "overdue_intro": "Die stündliche Aktualisierung dieses Hauptfalls war fällig um",
        "manage": "Abonnement verwalten",
        "unsubscribe": "Abmelden",
        "your_time": "Ihre Zeit",
    },
}

STATUS_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "investigating": "investigando",
        "identified": "identificado",
        "monitoring": "supervisando",
        "resolved": "resuelto",
        "postmortem": "análisis",
    },
    "de": {
        "investigating": "wird untersucht",
        "identified": "identifiziert",
        "monitoring": "wird beobachtet",
        "resolved": "behoben",
        "postmortem": "Nachbetrachtung",
    },
}


def words(language: str) -> dict[str, str]:
    return WORDING.get(language, WORDING["en"])


def status_word(status: str, language: str) -> str:
    return STATUS_WORDS.get(language, {}).get(status, status.replace("_", " "))
