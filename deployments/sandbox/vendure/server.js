// A real Vendure 3.7 shop for passerelle's demo and tests: in-memory sql.js, loopback only.
// Started by deployments/sandbox/vendure.py; prints "PASSERELLE VENDURE READY <port>" when usable.
'use strict';
process.env.VENDURE_DISABLE_TELEMETRY = 'true';

const fs = require('fs');
const {
    bootstrap,
    DefaultJobQueuePlugin,
    DefaultSearchPlugin,
    DefaultLogger,
    LogLevel,
    JobQueueService,
    dummyPaymentHandler,
    LanguageCode,
} = require('@vendure/core');
const { populateInitialData } = require('@vendure/core/cli');

const port = Number(process.env.VENDURE_PORT || 3000);
const dbFile = process.env.VENDURE_DB_FILE || '';
const isNewDatabase = !dbFile || !fs.existsSync(dbFile);

const EU = [
    ['FR', 'France'], ['BE', 'Belgium'], ['DE', 'Germany'], ['ES', 'Spain'], ['IT', 'Italy'],
    ['LU', 'Luxembourg'], ['NL', 'Netherlands'],
];
const OTHERS = [['GB', 'United Kingdom'], ['CH', 'Switzerland'], ['US', 'United States']];

const initialData = {
    defaultLanguage: LanguageCode.en,
    defaultZone: 'Europe',
    countries: [
        ...EU.map(([code, name]) => ({ code, name, zone: 'Europe' })),
        ...OTHERS.map(([code, name]) => ({ code, name, zone: 'Rest of the world' })),
    ],
    // French VAT: one tax category per rate, rates in the default (Europe) zone.
    taxRates: [
        { name: 'Standard Tax', percentage: 20 },
        { name: 'Intermediate Tax', percentage: 10 },
        { name: 'Reduced Tax', percentage: 5.5 },
        { name: 'Super Reduced Tax', percentage: 2.1 },
        { name: 'Zero Tax', percentage: 0 },
    ],
    shippingMethods: [{ name: 'standard-shipping', price: 490 }],
    paymentMethods: [
        {
            name: 'card-paid',
            handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'true' }] },
        },
        {
            name: 'card-authorised',
            handler: { code: dummyPaymentHandler.code, arguments: [{ name: 'automaticSettle', value: 'false' }] },
        },
    ],
    collections: [],
};

const config = {
    apiOptions: {
        hostname: '127.0.0.1',
        port,
        adminApiPath: 'admin-api',
        shopApiPath: 'shop-api',
        cors: { origin: ['http://127.0.0.1'], credentials: false },
    },
    authOptions: {
        tokenMethod: 'bearer',
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

bootstrap(config)
    .then(async (app) => {
        if (isNewDatabase) {
            await populateInitialData(app, initialData);
        }
        await app.get(JobQueueService).start();
        console.log(`PASSERELLE VENDURE READY ${port}`);
    })
    .catch((err) => {
        console.error(err);
        process.exit(1);
    });
