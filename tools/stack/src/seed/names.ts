/**
 * Name pools for the seeder. Each name carries a Latin transliteration, used where AD deployments
 * usually keep ASCII (sAMAccountName, mail local part); displayName, givenName, sn and cn keep the
 * original script. `family` first marks cultures that write the family name first (displayName).
 */
export interface PersonName {
  given: string;
  sn: string;
  givenLatin: string;
  snLatin: string;
  familyFirst?: boolean;
}

type Pool = { given: [string, string][]; sn: [string, string][]; familyFirst?: boolean; weight: number };

export const POOLS: Pool[] = [
  {
    weight: 50,
    given: [
      ['James', 'James'],
      ['Mary', 'Mary'],
      ['Robert', 'Robert'],
      ['Patricia', 'Patricia'],
      ['John', 'John'],
      ['Jennifer', 'Jennifer'],
      ['Michael', 'Michael'],
      ['Linda', 'Linda'],
      ['David', 'David'],
      ['Elizabeth', 'Elizabeth'],
      ['William', 'William'],
      ['Barbara', 'Barbara'],
      ['Richard', 'Richard'],
      ['Susan', 'Susan'],
      ['Joseph', 'Joseph'],
      ['Jessica', 'Jessica'],
      ['Thomas', 'Thomas'],
      ['Sarah', 'Sarah'],
      ['Charles', 'Charles'],
      ['Karen', 'Karen'],
      ['Daniel', 'Daniel'],
      ['Nancy', 'Nancy'],
      ['Matthew', 'Matthew'],
      ['Lisa', 'Lisa'],
      ['Anthony', 'Anthony'],
      ['Emma', 'Emma'],
      ['Olivia', 'Olivia'],
      ['Noah', 'Noah'],
      ['Liam', 'Liam'],
      ['Ava', 'Ava'],
    ],
    sn: [
      ['Smith', 'Smith'],
      ['Johnson', 'Johnson'],
      ['Williams', 'Williams'],
      ['Brown', 'Brown'],
      ['Jones', 'Jones'],
      ['Garcia', 'Garcia'],
      ['Miller', 'Miller'],
      ['Davis', 'Davis'],
      ['Rodriguez', 'Rodriguez'],
      ['Martinez', 'Martinez'],
      ['Hernandez', 'Hernandez'],
      ['Lopez', 'Lopez'],
      ['Gonzalez', 'Gonzalez'],
      ['Wilson', 'Wilson'],
      ['Anderson', 'Anderson'],
      ['Taylor', 'Taylor'],
      ['Moore', 'Moore'],
      ['Jackson', 'Jackson'],
      ['Martin', 'Martin'],
      ['Lee', 'Lee'],
      ["O'Brien", 'OBrien'],
      ['Thompson', 'Thompson'],
      ['White', 'White'],
      ['Harris', 'Harris'],
      ['Clark', 'Clark'],
    ],
  },
  {
    weight: 20,
    given: [
      ['Zoë', 'Zoe'],
      ['José', 'Jose'],
      ['François', 'Francois'],
      ['Søren', 'Soren'],
      ['Łukasz', 'Lukasz'],
      ['Åsa', 'Asa'],
      ['Renée', 'Renee'],
      ['Jürgen', 'Jurgen'],
      ['Björn', 'Bjorn'],
      ['Inés', 'Ines'],
      ['Zoltán', 'Zoltan'],
      ['Dagný', 'Dagny'],
      ['Çağla', 'Cagla'],
      ['Małgorzata', 'Malgorzata'],
      ['Noël', 'Noel'],
    ],
    sn: [
      ['Ångström', 'Angstrom'],
      ['Núñez', 'Nunez'],
      ['Lefèvre', 'Lefevre'],
      ['Kierkegaard', 'Kierkegaard'],
      ['Wróbel', 'Wrobel'],
      ['Dvořák', 'Dvorak'],
      ['Müller', 'Muller'],
      ['Çelik', 'Celik'],
      ['Sørensen', 'Sorensen'],
      ['Øberg', 'Oberg'],
      ['Håkansson', 'Hakansson'],
      ['Gonçalves', 'Goncalves'],
      ['Łęcki', 'Lecki'],
      ['Šťastný', 'Stastny'],
    ],
  },
  {
    weight: 10,
    familyFirst: true,
    given: [
      ['伟', 'Wei'],
      ['芳', 'Fang'],
      ['娜', 'Na'],
      ['秀英', 'Xiuying'],
      ['敏', 'Min'],
      ['静', 'Jing'],
      ['磊', 'Lei'],
      ['洋', 'Yang'],
    ],
    sn: [
      ['张', 'Zhang'],
      ['王', 'Wang'],
      ['李', 'Li'],
      ['刘', 'Liu'],
      ['陈', 'Chen'],
      ['杨', 'Yang'],
      ['赵', 'Zhao'],
      ['黄', 'Huang'],
    ],
  },
  {
    weight: 6,
    given: [
      ['Ολυμπία', 'Olympia'],
      ['Γιώργος', 'Giorgos'],
      ['Ελένη', 'Eleni'],
      ['Δημήτρης', 'Dimitris'],
      ['Σοφία', 'Sofia'],
    ],
    sn: [
      ['Παπαδοπούλου', 'Papadopoulou'],
      ['Νικολάου', 'Nikolaou'],
      ['Γεωργίου', 'Georgiou'],
      ['Οικονόμου', 'Oikonomou'],
    ],
  },
  {
    weight: 8,
    given: [
      ['Владимир', 'Vladimir'],
      ['Анна', 'Anna'],
      ['Дмитрий', 'Dmitry'],
      ['Ольга', 'Olga'],
      ['Сергей', 'Sergey'],
      ['Наталья', 'Natalya'],
    ],
    sn: [
      ['Иванов', 'Ivanov'],
      ['Смирнова', 'Smirnova'],
      ['Кузнецов', 'Kuznetsov'],
      ['Попова', 'Popova'],
      ['Соколов', 'Sokolov'],
    ],
  },
  {
    weight: 4,
    familyFirst: true,
    given: [
      ['花子', 'Hanako'],
      ['太郎', 'Taro'],
      ['陽菜', 'Hina'],
      ['翔', 'Sho'],
    ],
    sn: [
      ['佐藤', 'Sato'],
      ['鈴木', 'Suzuki'],
      ['高橋', 'Takahashi'],
      ['田中', 'Tanaka'],
    ],
  },
  {
    weight: 2,
    given: [
      ['प्रिया', 'Priya'],
      ['अर्जुन', 'Arjun'],
      ['محمد', 'Mohammed'],
      ['فاطمة', 'Fatima'],
    ],
    sn: [
      ['शर्मा', 'Sharma'],
      ['पटेल', 'Patel'],
      ['الأحمد', 'AlAhmad'],
      ['حداد', 'Haddad'],
    ],
  },
];

/** The first users of every forest, so tests can look them up by name. */
export const FIXED_PEOPLE: PersonName[] = [
  { given: 'Zoë', sn: 'Ångström', givenLatin: 'Zoe', snLatin: 'Angstrom' },
  { given: '伟', sn: '张', givenLatin: 'Wei', snLatin: 'Zhang', familyFirst: true },
  { given: 'Ολυμπία', sn: 'Παπαδοπούλου', givenLatin: 'Olympia', snLatin: 'Papadopoulou' },
  { given: 'Владимир', sn: 'Иванов', givenLatin: 'Vladimir', snLatin: 'Ivanov' },
  { given: 'José', sn: 'Núñez', givenLatin: 'Jose', snLatin: 'Nunez' },
];
