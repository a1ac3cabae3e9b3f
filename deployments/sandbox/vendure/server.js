// A real Vendure 3.7 shop for passerelle's demo and tests: sql.js (in memory, or a file), loopback only.
// Started by deployments/sandbox/vendure.py; prints "PASSERELLE VENDURE READY <port>" once the API
// answers, the job queue runs and the initial data (countries, French VAT, shipping, payments) exists.
'use strict';
process.env.VENDURE_DISABLE_TELEMETRY = 'true';

const {
    bootstrap,
    ChannelService,
    Country,
    CurrencyCode,
    DefaultJobQueuePlugin,
    DefaultLogger,
    DefaultSearchPlugin,
    dummyPaymentHandler,
    JobQueueService,
    LanguageCode,
    LogLevel,
    PaymentMethod,
    RequestContext,
    ShippingMethod,
    TaxCategory,
    TaxCategoryService,
    TransactionalConnection,
} = require('@vendure/core');
const { populateInitialData } = require('@vendure/core/cli');

const port = Number(process.env.VENDURE_PORT || 3000);
const dbFile = process.env.VENDURE_DB_FILE || '';

const EUROPE = [
    ['FR', 'France'], ['BE', 'Belgium'], ['DE', 'Germany'], ['ES', 'Spain'], ['IT', 'Italy'],
    ['LU', 'Luxembourg'], ['NL', 'Netherlands'],
];
const OTHERS = [['GB', 'United Kingdom'], ['CH', 'Switzerland'], ['US', 'United States']];
const TAX_RATES = [
    { name: 'Standard Tax', percentage: 20 },
    { name: 'Intermediate Tax', percentage: 10 },
    { name: 'Reduced Tax', percentage: 5.5 },
    { name: 'Super Reduced Tax', percentage: 2.1 },
    { name: 'Zero Tax', percentage: 0 },
];

// populate() derives codes from names: "Card Paid" -> card-paid, "Standard Shipping" -> standard-shipping.
const dummy = (settle) => ({
    code: dummyPaymentHandler.code,
    arguments: [{ name: 'automaticSettle', value: settle ? 'true' : 'false' }],
});
const initialData = {
    defaultLanguage: LanguageCode.en,
    defaultZone: 'Europe',
    countries: [
        ...EUROPE.map(([code, name]) => ({ code, name, zone: 'Europe' })),
        ...OTHERS.map(([code, name]) => ({ code, name, zone: 'Rest of the World' })),
    ],
    // One tax category per rate; populate() creates the rate in every zone.
    taxRates: TAX_RATES,
    // 4.90 EUR, tax-excluded (the channel's prices exclude tax), 20 % VAT on top.
    shippingMethods: [{ name: 'Standard Shipping', price: 490, taxRate: 20 }],
    paymentMethods: [
        { name: 'Card Paid', handler: dummy(true) }, // payment Settled at checkout
        { name: 'Card Authorised', handler: dummy(false) }, // payment stays Authorized
    ],
    collections: [],
};

const config = {
    apiOptions: {
        hostname: '127.0.0.1',
        port,
        adminApiPath: 'admin-api',
        shopApiPath: 'shop-api',
        introspection: true,
        // Loopback only: browsers on 127.0.0.1 / localhost; Apollo's CSRF guard (JSON clients are unaffected).
        cors: { origin: [/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/], credentials: true },
        csrfPrevention: true,
    },
    authOptions: {
        tokenMethod: ['bearer', 'cookie'],
        superadminCredentials: {
            identifier: process.env.VENDURE_SUPERADMIN_USERNAME || 'superadmin',
            password: process.env.VENDURE_SUPERADMIN_PASSWORD || 'superadmin',
        },
        requireVerification: false,
    },
    dbConnectionOptions: dbFile
        ? { type: 'sqljs', synchronize: true, location: dbFile, autoSave: true, logging: false }
        : { type: 'sqljs', synchronize: true, logging: false },
    paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
    // Vendure has no EAN / barcode / weight field of its own: ERP fields travel as custom fields.
    customFields: {
        Product: [
            { name: 'brand', type: 'string', nullable: true },
            { name: 'material', type: 'string', nullable: true },
        ],
        ProductVariant: [
            { name: 'ean', type: 'string', nullable: true },
            { name: 'weight', type: 'float', nullable: true },
        ],
    },
    logger: new DefaultLogger({ level: LogLevel.Warn }),
    plugins: [DefaultJobQueuePlugin.init({ pollInterval: 200 }), DefaultSearchPlugin.init({})],
};

async function populateIfNew(app) {
    const db = app.get(TransactionalConnection).rawConnection;
    if ((await db.getRepository(Country).count()) > 0) {
        return;
    }
    const channels = app.get(ChannelService);
    const channel = await channels.getDefaultChannel();
    await channels.update(RequestContext.empty(), {
        id: channel.id,
        defaultCurrencyCode: CurrencyCode.EUR,
        availableCurrencyCodes: [CurrencyCode.EUR],
        pricesIncludeTax: false,
    });
    await populateInitialData(app, initialData);
    // A variant created without taxCategoryId gets the default category: French standard VAT.
    const standard = await db.getRepository(TaxCategory).findOne({ where: { name: 'Standard Tax' } });
    if (standard) {
        await app.get(TaxCategoryService).update(RequestContext.empty(), { id: standard.id, isDefault: true });
    }
}

async function check(app) {
    // populate() logs its errors and carries on: make a half-built shop fail loudly instead.
    const db = app.get(TransactionalConnection).rawConnection;
    const channel = await app.get(ChannelService).getDefaultChannel();
    const counts = {
        countries: await db.getRepository(Country).count(),
        taxCategories: await db.getRepository(TaxCategory).count(),
        shippingMethods: await db.getRepository(ShippingMethod).count(),
        paymentMethods: await db.getRepository(PaymentMethod).count(),
    };
    const problems = [];
    if (counts.countries < EUROPE.length + OTHERS.length) problems.push(`countries: ${counts.countries}`);
    if (counts.taxCategories < TAX_RATES.length) problems.push(`tax categories: ${counts.taxCategories}`);
    if (counts.shippingMethods < 1) problems.push('no shipping method');
    if (counts.paymentMethods < 2) problems.push(`payment methods: ${counts.paymentMethods}`);
    if (channel.defaultCurrencyCode !== CurrencyCode.EUR) problems.push(`currency ${channel.defaultCurrencyCode}`);
    if (!channel.defaultTaxZone) problems.push('no default tax zone');
    if (problems.length) {
        const hint = dbFile ? ` Resolution: delete ${dbFile} to start from a new shop.` : '';
        throw new Error(`the shop's initial data is incomplete (${problems.join(', ')}).${hint}`);
    }
}

async function main() {
    const app = await bootstrap(config);
    await populateIfNew(app);
    await check(app);
    await app.get(JobQueueService).start(); // same process, so the search index fills
    // bootstrap() enabled Nest's shutdown hooks: SIGINT / SIGTERM close the app cleanly.
    process.stdout.write(`PASSERELLE VENDURE READY ${port}\n`);
}

main().catch((err) => {
    console.error('PASSERELLE VENDURE FAILED:', err && err.stack ? err.stack : err);
    process.exit(1);
});
