"""The starting catalog: education items across every persona and partner offers with their
eligibility rules as data. Operators edit it in the console afterwards."""

from django.db import migrations

EDUCATION = [
    ("credit-utilization-basics", "How credit utilization affects your score", ["high_utilization"], ["utilization_30", "high_utilization"], 3,
     "Credit utilization is the share of your card limits you are using. Scoring models weigh it heavily, and lower is better: under 30% is a common guideline, under 10% is better still. Paying before the statement date lowers the balance that gets reported.",
     "Your {card_name} ending in {card_mask} is at {card_utilization_pct}% utilization (${card_balance} of a ${card_limit} limit). Scores tend to improve as utilization falls below 30%, so paying it down toward that level can help."),
    ("paying-down-card-balances", "Avalanche or snowball: paying down card balances", ["high_utilization"], ["high_utilization", "interest_charged"], 2,
     "The avalanche method pays the highest-interest balance first and saves the most money; the snowball method pays the smallest balance first for quick wins. Either works when you keep paying more than the minimums.",
     "Your {card_name} ending in {card_mask} carries ${card_balance}, {card_utilization_pct}% of its limit. A payoff plan that targets the highest-interest balance first usually costs the least overall."),
    ("understanding-interest-charges", "Where card interest comes from", ["high_utilization"], ["interest_charged"], 2,
     "Card interest applies to balances carried past the due date. Paying the full statement balance each month keeps the grace period and avoids interest on new purchases.",
     "Your cards show ${interest_charged} in interest charges. Interest applies to balances carried past the due date, so paying the statement balance in full each month avoids it."),
    ("beyond-the-minimum-payment", "What paying only the minimum costs", ["high_utilization"], ["minimum_payment_only"], 2,
     "Minimum payments mostly cover interest, so the balance shrinks slowly. Adding even a fixed extra amount each month shortens the payoff time considerably.",
     "Your latest card payment was close to the minimum due. Paying a little more than the minimum each month shortens payoff time and reduces total interest on the ${card_balance} balance of your {card_name} ending in {card_mask}."),
    ("autopay-and-due-dates", "Never miss a due date: autopay and reminders", ["high_utilization"], ["overdue"], 1,
     "Late payments can bring fees and stay on credit reports. Autopay for at least the minimum, plus a reminder a few days before each due date, prevents most of them.",
     "One of your accounts shows a payment past due. With about ${monthly_income} a month coming in, scheduling autopay for the minimum right after payday helps avoid late fees."),
    ("smoothing-irregular-income", "Smoothing an irregular income", ["variable_income_budgeter"], ["irregular_income", "low_buffer"], 3,
     "When pay arrives unevenly, a holding account helps: deposit every payment there and pay yourself a steady amount from it each month.",
     "Your income deposits arrive about every {median_gap_days} days, and your cash on hand covers about {buffer_months} months of spending. Setting aside part of each larger deposit can smooth the months in between."),
    ("baseline-budget", "A budget built on your leanest month", ["variable_income_budgeter", "cash_flow_stretched"], ["low_buffer"], 2,
     "Budgeting around your lowest typical month of income means the good months fill savings instead of covering gaps.",
     "Your spending has averaged ${monthly_expenses} a month over the last {window_days} days. Building a budget around your lowest typical month of income makes leaner months easier."),
    ("subscription-audit", "The 15-minute subscription audit", ["subscription_heavy"], ["many_subscriptions", "subscriptions"], 3,
     "List every recurring charge, mark the ones you used in the last month, and cancel or pause the rest. Set a calendar reminder to repeat it each quarter.",
     "You have {subscription_count} recurring charges, including {subscription_merchants}, adding up to about ${monthly_recurring_spend} a month ({subscription_share_pct}% of your spending). A quick review of which ones you still use can free up money for other goals."),
    ("negotiating-bills", "Asking for a better rate on recurring bills", ["subscription_heavy"], ["subscriptions"], 1,
     "Many providers offer cheaper tiers, annual plans or retention discounts. A short call or chat often lowers a recurring bill.",
     "Recurring charges such as {subscription_merchants} come to about ${monthly_recurring_spend} a month. Many providers offer cheaper tiers or annual plans if you ask."),
    ("emergency-fund-basics", "Emergency funds: how much is enough", ["savings_builder", "cash_flow_stretched"], ["emergency_fund_short"], 2,
     "An emergency fund covers surprises without new debt. Three to six months of essential spending is a common target; starting with one month is a solid first step.",
     "Your savings of ${savings_balance} cover about {emergency_fund_months} months of your average spending of ${monthly_expenses}. Many people aim for three to six months."),
    ("high-yield-savings-explained", "Making savings earn more", ["savings_builder"], ["saving", "has_savings"], 2,
     "Savings rates vary widely between banks. Online high-yield accounts often pay several times more than traditional savings, with the same deposit insurance.",
     "You added about ${monthly_net_inflow} a month to savings recently, bringing the balance to ${savings_balance}. Comparing interest rates across accounts can make those deposits grow faster."),
    ("automating-savings", "Pay yourself first, automatically", ["savings_builder", "cash_flow_stretched"], ["saving", "has_income"], 1,
     "An automatic transfer on payday turns saving into a default rather than a monthly decision.",
     "With about ${monthly_income} a month coming in, an automatic transfer to savings on payday makes saving a default rather than a decision."),
    ("spending-plan-50-30-20", "The 50/30/20 spending plan", ["cash_flow_stretched"], ["low_buffer", "has_income"], 2,
     "Half of take-home pay for needs, 30% for wants and 20% for savings and debt payments: a simple starting point you can adjust.",
     "Your spending averages about ${monthly_expenses} a month and your income about ${monthly_income}. A simple plan such as 50/30/20 can help find room for a buffer."),
    ("starting-a-buffer", "Your first few hundred dollars of buffer", ["cash_flow_stretched", "variable_income_budgeter"], ["low_buffer"], 1,
     "A small buffer absorbs surprises like a car repair without a card balance. Rounding up purchases or saving windfalls builds one quickly.",
     "Your checking and savings balances of ${liquid_balance} cover about {buffer_months} months of spending. Even a small buffer can absorb surprises without new debt."),
    ("knowing-your-numbers", "Knowing your own numbers", [], [], 0,
     "Average monthly spending, income and fixed costs are the three numbers behind every plan. Reviewing them monthly keeps the plan current.",
     "Over the last {window_days} days your spending averaged ${monthly_expenses} a month. Knowing your own numbers is the first step of any plan."),
    ("reading-your-statements", "A monthly look at your statements", [], [], 0,
     "Reviewing statements each month catches errors, unexpected fees and charges you no longer need.",
     "We looked at the last {window_days} days of your transactions. A short monthly review of statements catches errors, fees and charges you no longer need."),
]

OFFERS = [
    ("balance-transfer-card", "0% intro APR balance transfer card", "Northwind Bank", "balance_transfer_card", ["high_utilization"], ["high_utilization", "interest_charged"], 3,
     {"min_monthly_income": 2000, "max_utilization": 0.95, "requires_card": True}, False,
     "Move a card balance to a card with 0% interest for an introductory period. A transfer fee (often 3-5%) applies; the plan works when the balance is paid before the period ends.",
     "Your {card_name} ending in {card_mask} is at {card_utilization_pct}% utilization (${card_balance} of ${card_limit}). A 0% intro APR balance transfer could pause interest while you pay it down; a transfer fee usually applies."),
    ("high-yield-savings", "High-yield savings account", "Harbor Savings", "high_yield_savings", ["savings_builder", "cash_flow_stretched"], ["no_savings_account", "emergency_fund_short"], 2,
     {"exclude_if_has_subtypes": ["savings", "money market"]}, False,
     "An FDIC-insured savings account paying a competitive rate, with no monthly fees or minimum balance.",
     "With about ${monthly_income} a month coming in and no savings account on file, a high-yield savings account is an easy place to start an emergency fund."),
    ("certificate-of-deposit", "12-month certificate of deposit", "Harbor Savings", "certificate_of_deposit", ["savings_builder"], ["saving", "has_savings"], 1,
     {"min_monthly_income": 1500, "max_utilization": 0.3, "exclude_if_has_subtypes": ["cd"]}, False,
     "Lock in a fixed rate for a year on money you will not need soon.",
     "Your savings of ${savings_balance} grew by about ${monthly_net_inflow} a month. Putting part of it in a certificate of deposit can lock in a rate for money you won't need soon."),
    ("budgeting-app", "Budgeting app, free for 3 months", "Ledgerly", "budgeting_app", ["variable_income_budgeter", "cash_flow_stretched"], ["low_buffer", "irregular_income"], 2,
     {}, False,
     "Connects to your accounts, sorts spending into categories and warns before a bill would overdraw your account.",
     "Your spending averaged ${monthly_expenses} a month over the last {window_days} days. A budgeting app can show where each dollar goes as it happens."),
    ("subscription-manager", "Subscription manager", "Trimly", "subscription_manager", ["subscription_heavy"], ["many_subscriptions"], 2,
     {}, False,
     "Finds recurring charges across your accounts and helps cancel the ones you no longer use.",
     "You have {subscription_count} recurring charges totalling about ${monthly_recurring_spend} a month. A subscription manager lists them in one place and helps cancel the ones you no longer use."),
    ("credit-builder-loan", "Credit-builder loan", "Keystone Credit Union", "credit_builder", ["cash_flow_stretched", "savings_builder"], ["no_card"], 1,
     {"min_monthly_income": 800, "exclude_if_has_subtypes": ["credit card"]}, False,
     "A small loan held in savings while you repay it, building a payment history with little risk.",
     "You have no credit card on file. With about ${monthly_income} a month coming in, a credit-builder loan can establish a payment history with little risk."),
    ("payday-advance", "Instant payday advance", "QuickCash", "payday_loan", ["cash_flow_stretched", "variable_income_budgeter"], ["low_buffer"], 5,
     {}, True,
     "Kept in the catalog to show the rule: payday loans are predatory and never offered.",
     "Your buffer covers {buffer_months} months of spending."),
]


# What each rationale states as fact (beyond citing figures): it must hold for the user.
REQUIRES = {
    "beyond-the-minimum-payment": ["minimum_payment_only"],
    "autopay-and-due-dates": ["overdue"],
    "understanding-interest-charges": ["interest_charged"],
    "high-yield-savings-explained": ["saving"],
    "automating-savings": ["has_income"],
    "spending-plan-50-30-20": ["has_income"],
    "smoothing-irregular-income": ["irregular_income"],
    "certificate-of-deposit": ["saving"],
    "credit-builder-loan": ["no_card", "has_income"],
    "high-yield-savings": ["no_savings_account", "has_income"],
    "balance-transfer-card": ["utilization_30"],
    "subscription-manager": ["many_subscriptions"],
    "subscription-audit": ["subscriptions"],
}


def seed(apps, schema_editor):
    EducationItem = apps.get_model("recommendations", "EducationItem")
    PartnerOffer = apps.get_model("recommendations", "PartnerOffer")
    for slug, title, personas, tags, priority, content, template in EDUCATION:
        EducationItem.objects.update_or_create(
            slug=slug,
            defaults={"title": title, "personas": personas, "tags": tags, "priority": priority,
                      "content": content, "rationale_template": template, "requires": REQUIRES.get(slug, [])},
        )
    for slug, title, partner, product, personas, tags, priority, rules, predatory, content, template in OFFERS:
        PartnerOffer.objects.update_or_create(
            slug=slug,
            defaults={"title": title, "partner": partner, "product_type": product, "personas": personas,
                      "tags": tags, "priority": priority, "eligibility": rules, "predatory": predatory,
                      "content": content, "rationale_template": template, "requires": REQUIRES.get(slug, [])},
        )


def unseed(apps, schema_editor):
    apps.get_model("recommendations", "EducationItem").objects.filter(slug__in=[e[0] for e in EDUCATION]).delete()
    apps.get_model("recommendations", "PartnerOffer").objects.filter(slug__in=[o[0] for o in OFFERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("recommendations", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
