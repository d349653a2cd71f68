import { describe, expect, it } from 'vitest';
import { InputError } from '@canopy/errors';
import { compileExpression, evaluateExpression } from './compile.js';
import { ExpressionEvaluationError, ExpressionSyntaxError } from './errors.js';
import { CLOUD_SYNC_FUNCTIONS, FUNCTIONS } from './functions.js';
import { IgnoreFlow, UniqueCandidates } from './values.js';

/**
 * One block per function of Microsoft's Cloud Sync expression reference. Cases marked "MS" are
 * the Example / Sample input-output sections of Microsoft's pages (Cloud Sync "Writing
 * expressions for attribute mappings" and app provisioning "Reference for writing expressions
 * for attribute mappings"), copied as they are; the others pin the documented edge rules.
 */
const ev = (expr: string, attrs: Record<string, unknown> = {}) => evaluateExpression(expr, attrs as never);

describe('function catalogue', () => {
  it('implements every function of the Cloud Sync reference', () => {
    for (const name of CLOUD_SYNC_FUNCTIONS) expect(FUNCTIONS.has(name.toLowerCase()), name).toBe(true);
  });
});

describe('Append', () => {
  it('MS: appends a constant suffix to the user name', () => {
    expect(ev('Append([userPrincipalName], ".test")', { userPrincipalName: 'John.Doe@contoso.com' })).toBe('John.Doe@contoso.com.test');
  });
  it('MS: builds an alias from parts of first and last name', () => {
    expect(ev('Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))', { givenName: 'John', surname: 'Doe' })).toBe('JohDoe');
  });
  it('keeps Null when the source is absent', () => {
    expect(ev('Append([missing], "x")')).toBeNull();
  });
});

describe('BitAnd', () => {
  it('MS: BitAnd(&HF, &HF7) is 7', () => {
    expect(ev('BitAnd(&HF, &HF7)')).toBe(7);
  });
  it('reads userAccountControl text and negative groupType values', () => {
    expect(ev('BitAnd([userAccountControl], 2)', { userAccountControl: '514' })).toBe(2);
    expect(ev('BitAnd([groupType], &H80000000)', { groupType: '-2147483646' })).toBe(2147483648);
  });
});

describe('CBool', () => {
  it('MS: CBool([attribute1] = [attribute2]) is True when both have the same value', () => {
    expect(ev('CBool([attribute1] = [attribute2])', { attribute1: 'x', attribute2: 'x' })).toBe(true);
    expect(ev('CBool([attribute1] = [attribute2])', { attribute1: 'x', attribute2: 'y' })).toBe(false);
  });
  it('is True for a non-zero value, else False', () => {
    expect(ev('CBool(5)')).toBe(true);
    expect(ev('CBool(0)')).toBe(false);
    expect(ev('CBool("True")')).toBe(true);
  });
});

describe('ConvertFromBase64', () => {
  it('MS: both examples return "Hello world!"', () => {
    expect(ev('ConvertFromBase64("SABlAGwAbABvACAAdwBvAHIAbABkACEA")')).toBe('Hello world!');
    expect(ev('ConvertFromBase64("SGVsbG8gd29ybGQh", UTF8)')).toBe('Hello world!');
  });
  it('decodes ASCII, replacing bytes above 0x7F with "?"', () => {
    expect(ev('ConvertFromBase64("SGn/", ASCII)')).toBe('Hi?');
  });
});

describe('ConvertToBase64', () => {
  it('MS: ConvertToBase64("Hello world!")', () => {
    expect(ev('ConvertToBase64("Hello world!")')).toBe('SABlAGwAbABvACAAdwBvAHIAbABkACEA');
  });
  it('encodes binary attributes byte for byte (objectGUID to immutable id)', () => {
    expect(ev('ConvertToBase64([objectGUID])', { objectGUID: Buffer.from([1, 2, 3]) })).toBe('AQID');
  });
});

describe('ConvertToUTF8Hex', () => {
  it('MS: ConvertToUTF8Hex("Hello world!")', () => {
    expect(ev('ConvertToUTF8Hex("Hello world!")')).toBe('48656C6C6F20776F726C6421');
  });
  it('encodes non-ASCII as UTF-8 bytes', () => {
    expect(ev('ConvertToUTF8Hex("é")')).toBe('C3A9');
  });
});

describe('Count', () => {
  it('counts the values of a multi-valued attribute', () => {
    expect(ev('Count([proxyAddresses])', { proxyAddresses: ['SMTP:a@x', 'smtp:b@x', 'x500:/o=X'] })).toBe(3);
    expect(ev('Count([proxyAddresses])', { proxyAddresses: 'SMTP:a@x' })).toBe(1);
    expect(ev('Count([proxyAddresses])')).toBe(0);
  });
});

describe('CStr', () => {
  it('MS: CStr([dn])', () => {
    expect(ev('CStr([dn])', { dn: 'cn=Joe,dc=contoso,dc=com' })).toBe('cn=Joe,dc=contoso,dc=com');
  });
  it('prints numbers and Booleans as .NET does', () => {
    expect(ev('CStr(42)')).toBe('42');
    expect(ev('CStr(IsNull([x]))')).toBe('True');
  });
});

describe('DateFromNum', () => {
  it('MS: DateFromNum(129699324000000000) is 2012-01-01 23:00:00', () => {
    expect(ev('DateFromNum(129699324000000000)')).toEqual(new Date('2012-01-01T23:00:00Z'));
    expect(ev('DateFromNum([lastLogonTimestamp])', { lastLogonTimestamp: '129699324000000000' })).toEqual(new Date('2012-01-01T23:00:00Z'));
  });
  it('gives Null for 0 and "never" (accountExpires = 0x7FFFFFFFFFFFFFFF)', () => {
    expect(ev('DateFromNum([accountExpires])', { accountExpires: '9223372036854775807' })).toBeNull();
    expect(ev('DateFromNum(0)')).toBeNull();
  });
  it('formats with FormatDateTime', () => {
    expect(ev('FormatDateTime(DateFromNum([pwdLastSet]), , "yyyy-MM-ddTHH:mm:ssK")', { pwdLastSet: '129699324000000000' })).toBe('2012-01-01T23:00:00Z');
  });
});

describe('DNComponent', () => {
  it('MS: DNComponent(CRef([dn]),1) of "cn=Joe,ou=..." is Joe', () => {
    expect(ev('DNComponent(CRef([dn]),1)', { dn: 'cn=Joe,ou=Sales,dc=contoso,dc=com' })).toBe('Joe');
  });
  it('counts from the left, unescapes values and gives Null past the end', () => {
    expect(ev('DNComponent([dn], 2)', { dn: 'CN=Smith\\, John,OU=Sales,DC=contoso,DC=com' })).toBe('Sales');
    expect(ev('DNComponent([dn], 1)', { dn: 'CN=Smith\\, John,OU=Sales,DC=contoso,DC=com' })).toBe('Smith, John');
    expect(ev('DNComponent([dn], 9)', { dn: 'CN=a,DC=b' })).toBeNull();
  });
});

describe('Error', () => {
  it('MS: IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))', () => {
    const expr = 'IIF(IsPresent([accountName]),[accountName],Error("AccountName is required"))';
    expect(ev(expr, { accountName: 'jdoe' })).toBe('jdoe');
    expect(() => ev(expr)).toThrowError(ExpressionEvaluationError);
    try {
      ev(expr);
    } catch (err) {
      expect((err as ExpressionEvaluationError).type).toBe('Expression.Error');
      expect((err as Error).message).toBe('AccountName is required');
    }
  });
});

describe('FormatDateTime', () => {
  it('MS (Cloud Sync, 3 arguments): "20150123105347.1Z" to "2015-01-23"', () => {
    expect(ev('FormatDateTime([extensionAttribute1], "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', { extensionAttribute1: '20150123105347.1Z' })).toBe('2015-01-23');
  });
  it('MS (app provisioning, with dateTimeStyles): same result', () => {
    expect(ev('FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")', { extensionAttribute1: '20150123105347.1Z' })).toBe('2015-01-23');
  });
  it('MS (NumFromDate example input formats): "yyyy-MM-ddzzz" and "M/d/yyyy hh:mm:ss tt"', () => {
    expect(ev('FormatDateTime([d], , "yyyy-MM-ddzzz", "yyyy-MM-dd")', { d: '2020-12-31-08:00' })).toBe('2020-12-31');
    expect(ev('FormatDateTime([d], , "M/d/yyyy hh:mm:ss tt", "yyyy-MM-dd HH:mm")', { d: '3/7/2021 01:30:00 PM' })).toBe('2021-03-07 13:30');
  });
  it('prints .NET specifiers: month names, 12-hour clock, fractions, offsets', () => {
    expect(ev('FormatDateTime("2024-02-29T17:05:09.1234567+02:00", , "yyyy-MM-ddTHH:mm:ss.fffffffzzz", "dddd d MMMM yyyy h:mm tt \'UTC\'zzz F")')).toBe(
      'Thursday 29 February 2024 5:05 PM UTC+02:00 1',
    );
  });
  it('rejects a value that does not match the input format', () => {
    expect(() => ev('FormatDateTime("2015-13-01", , "yyyy-MM-dd", "yyyy")')).toThrowError(/not a valid date/);
    expect(() => ev('FormatDateTime("garbage", , "yyyy-MM-dd", "yyyy")')).toThrowError(/does not match/);
  });
});

describe('Guid', () => {
  it('generates a new random GUID each time', () => {
    const a = ev('Guid()') as string;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ev('Guid()')).not.toBe(a);
  });
});

describe('IIF', () => {
  it('MS (Cloud Sync): IIF([employeeType]="Intern","t-" & [alias],[alias])', () => {
    const expr = 'IIF([employeeType]="Intern","t-" & [alias],[alias])';
    expect(ev(expr, { employeeType: 'Intern', alias: 'jdoe' })).toBe('t-jdoe');
    expect(ev(expr, { employeeType: 'Employee', alias: 'jdoe' })).toBe('jdoe');
  });
  it('MS (app provisioning): IIF([country]="USA",[country],[department]) and the nested AND/OR forms', () => {
    expect(ev('IIF([country]="USA",[country],[department])', { country: 'USA', department: 'Sales' })).toBe('USA');
    expect(ev('IIF([country]="USA",[country],[department])', { country: 'FR', department: 'Sales' })).toBe('Sales');
    const and = 'IIF([country]="USA",IIF([state]="CA","True","False"),"False")';
    expect(ev(and, { country: 'USA', state: 'CA' })).toBe('True');
    expect(ev(and, { country: 'USA', state: 'NY' })).toBe('False');
    const or = 'IIF([country]="USA","True",IIF([state]="CA","True","False"))';
    expect(ev(or, { country: 'FR', state: 'CA' })).toBe('True');
    expect(ev(or, { country: 'FR', state: 'NY' })).toBe('False');
  });
  it('MS (UserType mapping): IIF(InStr([userPrincipalName], "@partners") > 0,"Guest","Member")', () => {
    const expr = 'IIF(InStr([userPrincipalName], "@partners") > 0,"Guest","Member")';
    expect(ev(expr, { userPrincipalName: 'x@partners.contoso.com' })).toBe('Guest');
    expect(ev(expr, { userPrincipalName: 'x@contoso.com' })).toBe('Member');
  });
  it('refuses a condition that is not a Boolean, naming IIF', () => {
    expect(() => ev('IIF([a], "y", "n")', { a: 'perhaps' })).toThrowError('IIF condition: "perhaps" is not a Boolean');
  });
  it('evaluates only the branch it returns', () => {
    expect(ev('IIF(IsPresent([a]), [a], Error("missing"))', { a: 'v' })).toBe('v');
  });
  it('supports all comparison operators, numerically for numbers', () => {
    expect(ev('IIF(10 > 9, "y", "n")')).toBe('y');
    expect(ev('IIF([n] >= 10, "y", "n")', { n: '10' })).toBe('y');
    expect(ev('IIF([n] < 9, "y", "n")', { n: '10' })).toBe('n');
    expect(ev('IIF([n] <= 10, "y", "n")', { n: '10' })).toBe('y');
    expect(ev('IIF([n] <> "x", "y", "n")', { n: '10' })).toBe('y');
  });
});

describe('InStr', () => {
  it('MS: InStr("The quick brown fox","quick") is 5', () => {
    expect(ev('InStr("The quick brown fox","quick")')).toBe(5);
  });
  it('MS: InStr("repEated","e",3,vbBinaryCompare) is 7', () => {
    expect(ev('InStr("repEated","e",3,vbBinaryCompare)')).toBe(7);
  });
  it('ignores case with vbTextCompare and gives 0 when absent', () => {
    expect(ev('InStr("repEated","e",3,vbTextCompare)')).toBe(4);
    expect(ev('InStr("abc","z")')).toBe(0);
  });
});

describe('IsNull / IsNullOrEmpty / IsPresent / IsString', () => {
  it('MS: IsNull([displayName]) is True when the attribute is not present', () => {
    expect(ev('IsNull([displayName])')).toBe(true);
    expect(ev('IsNull([displayName])', { displayName: 'x' })).toBe(false);
  });
  it('MS: IsNullOrEmpty([displayName]) is True when absent or empty', () => {
    expect(ev('IsNullOrEmpty([displayName])')).toBe(true);
    expect(ev('IsNullOrEmpty([displayName])', { displayName: '' })).toBe(true);
    expect(ev('IsNullOrEmpty([displayName])', { displayName: 'x' })).toBe(false);
  });
  it('MS: Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director]) evaluates', () => {
    const expr = 'Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])';
    expect(ev('IsPresent([x])', { x: 'v' })).toBe(true);
    expect(ev('IsPresent([x])', { x: '' })).toBe(false);
    // source True matches the first key that is True: skiplevelManager present -> its value.
    expect(ev(expr, { directManager: 'dm', skiplevelManager: 'slm' })).toBe('slm');
  });
  it('IsString is True for values CStr can convert', () => {
    expect(ev('IsString([a])', { a: 'x' })).toBe(true);
    expect(ev('IsString(12)')).toBe(true);
    expect(ev('IsString([a])')).toBe(false);
    expect(ev('IsString([b])', { b: Buffer.from([1]) })).toBe(false);
  });
});

describe('Item', () => {
  it('MS: Item([proxyAddresses], 1) returns the first item', () => {
    expect(ev('Item([proxyAddresses], 1)', { proxyAddresses: ['SMTP:a@x', 'smtp:b@x'] })).toBe('SMTP:a@x');
  });
  it('throws when the index is out of bounds (0 too)', () => {
    expect(() => ev('Item([proxyAddresses], 3)', { proxyAddresses: ['a', 'b'] })).toThrowError(/out of bounds/);
    expect(() => ev('Item([proxyAddresses], 0)', { proxyAddresses: ['a', 'b'] })).toThrowError(/out of bounds/);
  });
});

describe('Join', () => {
  it('MS: Join(", ", "", [surname], [givenName]) is "Doe, John"', () => {
    expect(ev('Join(", ", "", [surname], [givenName])', { givenName: 'John', surname: 'Doe' })).toBe('Doe, John');
  });
  it('joins every value of a multi-valued source and skips absent ones', () => {
    expect(ev('Join(";", [a], [missing], [b])', { a: ['1', '2'], b: '3' })).toBe('1;2;3');
    expect(ev('Join(" ", [givenName], [sn])', { givenName: 'Zoë', sn: 'Ångström' })).toBe('Zoë Ångström');
  });
  it('MS: Join("", 1000, ...) accepts numbers', () => {
    expect(ev('Join("", 1000, Replace("00aa-11", , "[a-zA-Z_]*", , "", , ))')).toBe('100000-11');
  });
});

describe('Left', () => {
  it('MS: Left("John Doe", 3) is "Joh"', () => {
    expect(ev('Left("John Doe", 3)')).toBe('Joh');
  });
  it('follows the documented edge rules', () => {
    expect(ev('Left("John", 0)')).toBe('');
    expect(ev('Left("John", -1)')).toBe('John');
    expect(ev('Left([missing], 2)')).toBe('');
    expect(ev('Left("Jo", 5)')).toBe('Jo');
  });
});

describe('Mid', () => {
  it('MS: Mid([givenName], 1, 3)', () => {
    expect(ev('Mid([givenName], 1, 3)', { givenName: 'John' })).toBe('Joh');
  });
  it('returns until the end when length passes it, empty past the end, and rejects start < 1', () => {
    expect(ev('Mid("John", 3, 10)')).toBe('hn');
    expect(ev('Mid("John", 9, 2)')).toBe('');
    expect(() => ev('Mid("John", 0, 2)')).toThrowError(/start must be 1 or more/);
  });
});

describe('NormalizeDiacritics', () => {
  it('MS: NormalizeDiacritics("Zoë") is "Zoe"', () => {
    expect(ev('NormalizeDiacritics([givenName])', { givenName: 'Zoë' })).toBe('Zoe');
  });
  it('uses the whole documented table, including ligatures and combining sequences', () => {
    expect(ev('NormalizeDiacritics("Ångström Ærø Łódź Straße Şişli Dvořák Ȳ̃")')).toBe('Angstrom AEroe Lodz Strasse Sisli Dvorak Y');
    expect(ev('NormalizeDiacritics("ā́")')).toBe('a');
  });
  it('leaves other scripts alone', () => {
    expect(ev('NormalizeDiacritics("张伟 Йоан")')).toBe('张伟 Йоан');
  });
});

describe('Not', () => {
  it('flips "True" and gives True for anything else', () => {
    expect(ev('Not("True")')).toBe(false);
    expect(ev('Not("False")')).toBe(true);
    expect(ev('Not(IsPresent([a]))', { a: 'x' })).toBe(false);
    expect(ev('Not([missing])')).toBe(true);
  });
});

describe('RemoveDuplicates', () => {
  it('MS: RemoveDuplicates([proxyAddresses]) removes duplicate values', () => {
    expect(ev('RemoveDuplicates([proxyAddresses])', { proxyAddresses: ['SMTP:a@x', 'smtp:b@x', 'SMTP:a@x'] })).toEqual(['SMTP:a@x', 'smtp:b@x']);
  });
});

describe('Replace', () => {
  it('MS: strip a known domain name: Replace([mail], "@contoso.com", , ,"", ,)', () => {
    expect(ev('Replace([mail], "@contoso.com", , ,"", ,)', { mail: 'john.doe@contoso.com' })).toBe('john.doe');
  });
  it('MS example 1: oldValue and replacementValue', () => {
    expect(ev('Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )', { BusinessTitle: 'Product Developer' })).toBe('Software Engineer');
  });
  it('MS example 2: oldValue and template', () => {
    expect(ev('Replace([UserID],"<username>", , , , , "<username>@contoso.com")', { UserID: 'jsmith' })).toBe('jsmith@contoso.com');
  });
  it('MS example 3: regexPattern and replacementValue with a named group', () => {
    expect(ev('Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )', { telephoneNumber: '+91 9998887777' })).toBe('9998887777');
    // Microsoft prints 19998887777, but its pattern [()\s-]+ does not contain '+': .NET keeps it, as we do.
    expect(ev('Replace([mobile], , "[()\\\\s-]+", , "", , )', { mobile: '+1 (999) 888-7777' })).toBe('+19998887777');
  });
  it('MS example 4: regexPattern, regexGroupName and replacementValue', () => {
    expect(ev('Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )', { AddressLineData: '545 Tremont Street' })).toBe('888 Tremont Street');
    expect(ev('Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', { userPrincipalName: 'jsmith@contoso.com' })).toBe('jsmith');
  });
  it('MS example 5: regexPattern, regexGroupName and replacementAttributeName', () => {
    const expr = 'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , [mobile], )';
    expect(ev(expr, { telephoneNumber: '', mobile: '+91 8887779999' })).toBe('8887779999');
    expect(ev(expr, { telephoneNumber: '+1 555', mobile: '+91 8887779999' })).toBe('+1 555');
  });
  it('MS example 6: remove characters matching a regex', () => {
    expect(ev('Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', { mailNickname: 'john_doe72' })).toBe('72');
  });
  it("accepts Entra Connect's three-argument form", () => {
    expect(ev('Replace([a], "-", "_")', { a: 'x-y-z' })).toBe('x_y_z');
  });
});

describe('SelectUniqueValue', () => {
  const expr = `SelectUniqueValue(
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )`;
  it('MS: returns the candidates in order; the writer picks the first one free in the tenant', () => {
    const v = ev(expr, { PreferredFirstName: 'John', PreferredLastName: 'Smith' });
    expect(v).toBeInstanceOf(UniqueCandidates);
    expect((v as UniqueCandidates).values).toEqual(['John.Smith@contoso.com', 'J.Smith@contoso.com', 'Jo.Smith@contoso.com']);
    expect(compileExpression(expr).selectsUniqueValue).toBe(true);
  });
  it('must be top-level and have at least two rules', () => {
    expect(() => compileExpression('ToLower(SelectUniqueValue("a", "b"))')).toThrowError(/top-level/);
    expect(() => compileExpression('SelectUniqueValue("a")')).toThrowError(ExpressionSyntaxError);
  });
});

describe('Split', () => {
  it('MS: Split([extensionAttribute5], ",")', () => {
    expect(ev('Split([extensionAttribute5], ",")', { extensionAttribute5: 'PermissionSetOne, PermissionSetTwo' })).toEqual(['PermissionSetOne', 'PermissionSetTwo']);
  });
});

describe('StringFromSID', () => {
  it('converts a binary SID to S-1-5-...', () => {
    const sid = Buffer.from('010500000000000515000000a065cf7e784b9b5fe77c8770e9030000', 'hex');
    expect(ev('StringFromSID([objectSid])', { objectSid: sid })).toBe('S-1-5-21-2127521184-1604012920-1887927527-1001');
    expect(ev('StringFromSID([objectSid])', { objectSid: Buffer.from('010100000000000512000000', 'hex') })).toBe('S-1-5-18');
  });
  it('rejects bytes that are not a SID', () => {
    expect(() => ev('StringFromSID([objectSid])', { objectSid: Buffer.from([1, 5, 0]) })).toThrowError(/too short/);
  });
});

describe('StripSpaces', () => {
  it('MS (UPN example): ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", ...))), "contoso.com"))', () => {
    expect(
      ev('ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))', {
        PreferredFirstName: 'John',
        PreferredLastName: 'Smith',
      }),
    ).toBe('john.smith@contoso.com');
    expect(ev('StripSpaces(" a b  c ")')).toBe('abc');
  });
});

describe('Switch', () => {
  const expr = 'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")';
  it('MS: state "QLD" gives "Australia/Brisbane"', () => {
    expect(ev(expr, { state: 'QLD' })).toBe('Australia/Brisbane');
  });
  it('returns the default when nothing matches; compares case-sensitively', () => {
    expect(ev(expr, { state: 'VIC' })).toBe('Australia/Sydney');
    expect(ev(expr, { state: 'qld' })).toBe('Australia/Sydney');
  });
  it('MS: an empty key matches an absent source; ToLower makes it case-insensitive', () => {
    expect(ev('Switch([statusFlag], "Default Value", "true", "1", "", "0")')).toBe('0');
    expect(ev('Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', { statusFlag: 'TRUE' })).toBe('1');
  });
  it('needs an even number of arguments', () => {
    expect(() => compileExpression('Switch([a], "d", "k")')).toThrowError(ExpressionSyntaxError);
    expect(() => compileExpression('Switch([a], "d", "k", "v", "k2")')).toThrowError(/even number/);
  });
});

describe('ToLower / ToUpper', () => {
  it('use invariant culture by default and a given culture when asked', () => {
    expect(ev('ToLower("ÀÉÎ ΣΑΣ")')).toBe('àéî σασ');
    expect(ev('ToUpper("straße")')).toBe('STRAßE');
    expect(ev('ToUpper("istanbul", "tr-TR")')).toBe('İSTANBUL');
    expect(ev('ToLower([a])', { a: ['A', 'B'] })).toEqual(['a', 'b']);
  });
});

describe('Trim', () => {
  it('MS: Trim(" Test ") is "Test" and Trim([proxyAddresses]) trims each value', () => {
    expect(ev('Trim(" Test ")')).toBe('Test');
    expect(ev('Trim([proxyAddresses])', { proxyAddresses: [' SMTP:a@x ', 'smtp:b@x '] })).toEqual(['SMTP:a@x', 'smtp:b@x']);
  });
});

describe('Word', () => {
  it('MS: Word("The quick brown fox",3," ") is "brown"', () => {
    expect(ev('Word("The quick brown fox",3," ")')).toBe('brown');
  });
  it('MS: Word("This,string!has&many separators",3,",!&#") is "has"', () => {
    expect(ev('Word("This,string!has&many separators",3,",!&#")')).toBe('has');
  });
  it('gives "" for number < 1, a Null string, or too few words', () => {
    expect(ev('Word("a b",0," ")')).toBe('');
    expect(ev('Word([missing],1," ")')).toBe('');
    expect(ev('Word("a b",3," ")')).toBe('');
  });
});

describe('errors', () => {
  it('are InputErrors', () => {
    expect(() => compileExpression('Foo(1)')).toThrowError(InputError);
    expect(() => ev('Mid("a", 0, 1)')).toThrowError(InputError);
  });
});

describe('FormatDateTime dateTimeStyles', () => {
  it('AdjustToUniversal converts to UTC; AssumeUniversal treats an unspecified time as UTC', () => {
    expect(ev('FormatDateTime("2020-12-31T23:30:00-08:00", "AdjustToUniversal", "yyyy-MM-ddTHH:mm:sszzz", "yyyy-MM-ddTHH:mmK")')).toBe('2021-01-01T07:30Z');
    expect(ev('FormatDateTime("2020-12-31T23:30:00-08:00", , "yyyy-MM-ddTHH:mm:sszzz", "yyyy-MM-ddTHH:mmK")')).toBe('2020-12-31T23:30-08:00');
    expect(ev('FormatDateTime("2020-12-31 23:30", "AssumeUniversal", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mmK")')).toBe('2020-12-31T23:30Z');
    expect(ev('FormatDateTime("2020-12-31 23:30", , "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mmK")')).toBe('2020-12-31T23:30');
  });
  it('rejects unknown styles', () => {
    expect(() => ev('FormatDateTime("2020-12-31", "Sideways", "yyyy-MM-dd", "yyyy")')).toThrowError(/unknown DateTimeStyles value "sideways"/);
  });
});

describe('app-provisioning functions the same engine runs', () => {
  const cstr = (e: string, a: Record<string, unknown> = {}) => ev(`CStr(${e})`, a);
  it('MS: CDate returns the UTC instant, printed M/d/yyyy h:mm:ss tt', () => {
    expect(cstr('CDate([StatusHireDate])', { StatusHireDate: '2020-03-16-07:00' })).toBe('3/16/2020 7:00:00 AM');
    expect(cstr('CDate("2021-06-30+08:00")')).toBe('6/29/2021 4:00:00 PM');
    expect(cstr('CDate("2009-06-15T01:45:30-07:00")')).toBe('6/15/2009 8:45:30 AM');
    expect(() => ev('CDate("someday")')).toThrowError(/not a date/);
  });
  it('MS: DateAdd table', () => {
    const hire = { StatusHireDate: '2012-03-16-07:00' };
    expect(cstr('DateAdd("d", 7, CDate([StatusHireDate]))', hire)).toBe('3/23/2012 7:00:00 AM');
    expect(cstr('DateAdd("d", -10, CDate([StatusHireDate]))', hire)).toBe('3/6/2012 7:00:00 AM');
    expect(cstr('DateAdd("ww", 2, CDate([StatusHireDate]))', hire)).toBe('3/30/2012 7:00:00 AM');
    expect(cstr('DateAdd("m", 10, CDate([StatusHireDate]))', hire)).toBe('1/16/2013 7:00:00 AM');
    expect(cstr('DateAdd("yyyy", 2, CDate([StatusHireDate]))', hire)).toBe('3/16/2014 7:00:00 AM');
  });
  it('MS: DateDiff table (VB boundary counting)', () => {
    expect(ev('DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))')).toBe(13);
    expect(ev('DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))')).toBe(-3449);
    expect(ev('DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))')).toBe(-493);
    expect(ev('DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))')).toBe(-113);
    expect(ev('DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))')).toBe(-9);
    expect(ev('DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))')).toBe(0);
    expect(ev('DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))')).toBe(24);
    expect(ev('DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))')).toBe(1440);
    expect(ev('DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))')).toBe(86400);
  });
  it('MS: Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")', () => {
    const expr = 'Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")';
    const now = () => new Date('2021-08-25T17:41:18Z');
    const compiled = compileExpression(expr);
    const run = (a: Record<string, string>) => compiled.evaluate({ attr: (n) => a[n] ?? null, now });
    expect(run({ active: '1', statushiredate: '2021-08-27' })).toBe('True');
    expect(run({ active: '1', statushiredate: '2021-09-30' })).toBe('False');
    expect(run({ active: '0', statushiredate: '2021-08-27' })).toBe('False');
  });
  it('MS: NumFromDate gives AD large-integer time (the inverse of DateFromNum)', () => {
    expect(ev('NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))', { ContractEndDate: '2020-12-31-08:00' })).toBe(
      '132539615990000000',
    );
    expect(ev('DateFromNum(NumFromDate("2012-01-01T23:00:00Z"))')).toEqual(new Date('2012-01-01T23:00:00Z'));
  });
  it('MS: PCase examples', () => {
    expect(ev('PCase([firstName])', { firstName: 'PABLO GONSALVES (SECOND)' })).toBe('Pablo Gonsalves (Second)');
    expect(ev('PCase([lastName]," \'-")', { lastName: "PINTO-DE'SILVA" })).toBe("Pinto-De'Silva");
    expect(ev('PCase(Join(" ",[firstName],[lastName]))', { firstName: 'GREGORY', lastName: 'JAMES' })).toBe('Gregory James');
  });
  it('MS: IgnoreFlowIfNullOrEmpty([department]) leaves the attribute out of the flow', () => {
    expect(ev('IgnoreFlowIfNullOrEmpty([department])')).toBeInstanceOf(IgnoreFlow);
    expect(ev('IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))', { prefix: '9' })).toBeInstanceOf(IgnoreFlow);
    expect(ev('IgnoreFlowIfNullOrEmpty([department])', { department: 'Sales' })).toBe('Sales');
  });
  it('MS: Coalesce([mail],[userPrincipalName]) and Redact', () => {
    expect(ev('Coalesce([mail],[userPrincipalName])', { userPrincipalName: 'John.Doe@contoso.com' })).toBe('John.Doe@contoso.com');
    expect(ev('Redact([userPrincipalName])', { userPrincipalName: 'x@y' })).toBe('x@y');
  });
});
